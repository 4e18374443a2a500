"""Render nbs/index.ipynb to README.md without Quarto (which nbdev-readme needs and these machines lack).

    python tools/readme.py          # write README.md
    python tools/readme.py --check  # exit 1 if README.md is out of date
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def render(notebook:Path)->str:
    "Markdown cells as they are, code cells (but hidden ones) as python blocks."
    parts = []
    for cell in json.loads(notebook.read_text())['cells']:
        source = ''.join(cell['source']).strip()
        if cell['cell_type'] == 'markdown': parts.append(source)
        elif source and not source.startswith('#| hide'): parts.append(f"```python\n{source}\n```")
    return "<!-- generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file -->\n\n" + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text, readme = render(ROOT / 'nbs' / 'index.ipynb'), ROOT / 'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != text: sys.exit("README.md is out of date: run `python tools/readme.py`")
    else: readme.write_text(text)
