# Sphinx configuration of the documentation site, used by tools/docs.py (the pages come from build/docs/pages).
project = 'shapley_cnn'
author = 'shapley_cnn developers'
copyright = '2026, shapley_cnn developers'
extensions = ['myst_nb', 'sphinx-mathjax-offline']   # MathJax served from the site itself, not a CDN
html_theme = 'furo'
html_title = 'shapley_cnn'
html_static_path = ['_static']
html_css_files = ['site.css']
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = '%Y-%m-%d'
nb_execution_mode = 'off'                 # tools/docs.py has just run the notebooks
nb_ipywidgets_js = {}                     # no widget JavaScript from a CDN: widgets are shown as their figures
nb_render_markdown_format = 'myst'        # show_doc's markdown, with its math
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence']
myst_heading_anchors = 3
exclude_patterns = ['**.ipynb_checkpoints']
