"""Render nbs/index.ipynb to README.md without Quarto (which nbdev-readme needs and these machines lack).

    python tools/readme.py          # write README.md
    python tools/readme.py --check  # exit 1 if README.md is out of date
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = 'https://shapley-cnn.github.io/shapley_cnn/'   # where the docs workflow publishes the site

def links(markdown:str)->str:
    "Links as the README at the top of the repository needs them: notebooks to their pages, images under nbs/."
    markdown = re.sub(r'\]\((?:\d+[a-z]?_)?(\w+)\.ipynb(#[^)]*)?\)', lambda m: f"]({DOCS}{m[1]}.html{m[2] or ''})", markdown)
    return markdown.replace('](images/', '](nbs/images/')

def render(notebook:Path)->str:
    "Markdown cells as they are, code cells (but hidden ones) as python blocks."
    parts = []
    for cell in json.loads(notebook.read_text())['cells']:
        source = ''.join(cell['source']).strip()
        if cell['cell_type'] == 'markdown': parts.append(links(source))
        elif source and not source.startswith('#| hide'):  # the directives are the notebook's, not the reader's
            code = '\n'.join(line for line in source.splitlines() if not line.startswith('#|'))
            parts.append(f"```python\n{code}\n```")
    return "<!-- generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file -->\n\n" + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text, readme = render(ROOT / 'nbs' / 'index.ipynb'), ROOT / 'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != text: sys.exit("README.md is out of date: run `python tools/readme.py`")
    else: readme.write_text(text)
