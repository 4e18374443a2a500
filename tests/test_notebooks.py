"The notebooks as sources: what a page needs of them that a run on one machine cannot show."
import json, re
from pathlib import Path
import pytest

NBS = sorted((Path(__file__).resolve().parent.parent / 'nbs').glob('*.ipynb'))
READS_MNIST = re.compile(r"""(['"])mnist\1(?!\s+if\b)|\bload_mnist\(""")  # `'mnist' if mnist else 'digits'` reads nothing
REFUSAL = re.compile(r'^\s*(test_fail\(|assert not ).*$', re.M)  # a check that a bad folder is refused reads nothing
FLAG = re.compile(r'^#\|\s*([\w-]+)\s*$', re.M)

def cells(notebook:Path, kind:str='code'):
    for i, cell in enumerate(json.loads(notebook.read_text())['cells']):
        if cell['cell_type'] == kind: yield i, ''.join(cell['source'])

@pytest.mark.parametrize('notebook', NBS, ids=[nb.stem for nb in NBS])
def test_cells_that_read_mnist_are_flagged(notebook):
    "A machine without the MNIST files (and offline) skips those cells, so the test command passes there too."
    unflagged = [i for i, source in cells(notebook) if READS_MNIST.search(REFUSAL.sub('', source)) and 'mnist' not in FLAG.findall(source)
                 and not source.startswith('#| export') and '#| eval: false' not in source]
    assert not unflagged, f"{notebook.name}: cells {unflagged} read MNIST without `#| mnist`"

@pytest.mark.parametrize('notebook', NBS, ids=[nb.stem for nb in NBS])
def test_the_description_is_one_line(notebook):
    "nbdev reads the `> description` under the title as one line: a second line is cut off the page."
    title = next(source for _, source in cells(notebook, 'markdown') if source.startswith('# '))
    quote = [line for line in title.splitlines()[1:] if line.strip()][:2]
    assert quote[0].startswith('> ') and not (len(quote) > 1 and quote[1].startswith('>')), f"{notebook.name}: {quote}"
