"The notebooks as sources: what a page needs of them that a run on one machine cannot show."
import ast, builtins, json, re, symtable
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

def globals_of(trees)->tuple[set, set]:
    "The global names a cell binds, and those it reads (in any scope) without binding them."
    table = symtable.symtable('\n'.join(ast.unparse(t) for t in trees), 'cell', 'exec')
    binds = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    def reads(t):
        here = {s.get_name() for s in t.get_symbols() if s.is_referenced() and (t is table or s.is_global()
                and not (s.is_parameter() or s.is_assigned() or s.is_imported()))}  # a function named `top` is taken for the module
        return here.union(*map(reads, t.get_children()))
    return binds, reads(table) - binds

@pytest.mark.parametrize('notebook', NBS, ids=[nb.stem for nb in NBS])
def test_cells_the_docs_run_use_only_what_the_docs_run(notebook):
    """nbdev's docs run only exported cells and cells that import anything (its `_do_eval`), so such a cell may use
    only names that those cells bind: a name from a cell between them is a NameError on the page."""
    from nbdev.process import NBProcessor
    from nbdev.processors import _do_eval
    run = [cell for cell in NBProcessor(notebook).nb.cells if cell.cell_type == 'code' and _do_eval(cell)]
    names = [globals_of(cell.parsed_()) for cell in run]
    known = set(dir(builtins)) | {'show_doc', 'get_ipython'} | set().union(*(binds for binds, _ in names))
    if '*' in known: return  # a star import may bind anything
    unbound = {cell.idx_: sorted(reads - known) for cell, (_, reads) in zip(run, names) if reads - known}
    assert not unbound, f"{notebook.name}: cells the docs run use names bound elsewhere {unbound}; move the imports to a cell of their own"
