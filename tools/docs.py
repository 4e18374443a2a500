"""Build the documentation site into docs/ from the notebooks, offline and without Quarto.

    python tools/docs.py            # run the notebooks (but the cells flagged #| slow), then build docs/
    python tools/docs.py --slow     # run the slow cells too
    python tools/docs.py --check    # check the built site (tools/check_docs.py) after building it

Every build runs the notebooks afresh, on copies in build/docs/run/ (the sources in nbs/ hold no outputs), so a page
shows what the code as it is now prints: a page can never show the outputs of code that has since changed. A notebook
that fails stops the build, as `nbdev-test` would; the run is the notebooks' test. nbdev's own processors (those
`nbdev-docs` applies before Quarto) turn each run into a page: the API of every exported name as `show_doc` renders
it, exported source and hidden cells dropped, names linked to their docs. Sphinx, with myst-nb and the furo theme,
renders the pages; MathJax is served from the site itself (sphinx-mathjax-offline), so the site needs no network.
Where Quarto is installed, `nbdev-docs` still renders the notebooks the usual nbdev way.

Cells flagged `#| slow`, `#| ray` or `#| mnist` run with `--slow`, where Ray is installed and where the MNIST files
are at hand (`$SHAPLEY_CNN_MNIST`); a page says under each cell the build left out why it was not run. The run's
record (each notebook passed or failed, its seconds and peak memory, the flags) is `build/docs/run/status.json`.
"""
import argparse, importlib.util, json, os, re, shutil, subprocess, sys, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS, SITE, BUILD = ROOT / 'nbs', ROOT / 'docs', ROOT / 'build' / 'docs'
RUN, PAGES = BUILD / 'run', BUILD / 'pages'
# the notebooks' numbering by part (see the README); a new part gets its caption here
PARTS = {'0': 'Shapley theory', '1': 'The CNN engine', '2': 'Filter pruning', '3': 'Neuron Shapley',
         '4': 'Image and layer SHAP', '5': 'Data Shapley', '9': 'Command line'}
WIDGET = 'application/vnd.jupyter.widget-view+json'
WIDGET_NOTE = ("*An interactive widget: open this notebook in JupyterLab to use it. The figure above is its state "
               "when the page was built.*")

def page_name(notebook:Path)->str:
    "The page a notebook becomes, as nbdev names it: `00_games.ipynb` -> `games`."
    return re.sub(r'^\d+[a-z]?_', '', notebook.stem)

def part(notebook:Path)->str:
    "The sidebar caption of a notebook's part, from the first digit of its number."
    return PARTS.get(notebook.name[0], 'More') if notebook.name[0].isdigit() else ''

def _worker_setup():
    "A notebook worker: its data loaders fork (as under `nbdev-test`) instead of spawning and importing torch anew."
    import multiprocessing, warnings
    multiprocessing.set_start_method('fork', force=True)
    # fastai's imports call the deprecated `torch.jit.script`: not this project's warning to print on every build
    warnings.filterwarnings('ignore', message='.*torch.jit.script.* is deprecated', category=FutureWarning)

def _pool(workers:int)->ProcessPoolExecutor:
    "Workers that each serve one notebook, then exit (a reused one can lose matplotlib's inline figures)."
    return ProcessPoolExecutor(workers, max_tasks_per_child=1, initializer=_worker_setup)

def _run_notebook(notebook:Path, skip_flags:list, force_flags:list, timeout:int):
    "Run one notebook in place, saving its outputs; (name, passed, seconds, peak resident memory in MB)."
    import resource
    from nbdev.test import test_nb
    passed, seconds = test_nb(notebook, skip_flags=skip_flags, force_flags=force_flags, save=True, basepath=ROOT,
                              cell_timeout=timeout)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the worker serves this notebook alone
    return notebook.name, passed, seconds, peak_mb

def mnist_here()->bool:
    "Whether MNIST can be read without the network (`shapley_cnn.data.mnist_available`)."
    from shapley_cnn.data import mnist_available
    return mnist_available()

def run_flags(slow:bool=False)->tuple[list, list]:
    "The cell flags a build skips and those it runs anyway: slow with --slow, ray where Ray is, mnist where MNIST is."
    from nbdev.config import get_config
    skip, force = get_config(NBS).tst_flags.split(), (['slow'] if slow else [])
    if importlib.util.find_spec('ray'): force.append('ray')  # the cells that run on a local Ray runtime
    if mnist_here(): force.append('mnist')
    return skip, force

def skipped(skip:list, force:list)->list[str]:
    "The flags whose cells a build with these flags leaves out."
    return [flag for flag in skip if flag not in force]

def run_notebooks(slow:bool=False, workers:int=2)->list[Path]:
    "Copy the notebooks to build/docs/run and run them there, each in a fresh process; the copies keep the outputs."
    from nbdev.config import get_config
    cfg = get_config(NBS)
    skip, force = run_flags(slow)
    for flag in skipped(skip, force):
        if flag in SKIP_NOTES: print(f"cells flagged #| {flag} are not run in this build: {SKIP_NOTES[flag][0]}")
    shutil.rmtree(RUN, ignore_errors=True); RUN.mkdir(parents=True)
    copies = [Path(shutil.copy2(nb, RUN)) for nb in sorted(NBS.glob('*.ipynb'))]
    # one torch thread per notebook: two notebooks with two threads each fight over two cores
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    started = time.perf_counter()
    # the studies (the highest numbers) take longest: started first, the short notebooks fill in beside them
    order = sorted(copies, key=lambda c: c.name, reverse=True)
    with _pool(workers) as pool:
        results = list(pool.map(_run_notebook, order, [skip] * len(order), [force] * len(order),
                                [int(cfg.get('cell_timeout', 600))] * len(order)))
    for name, passed, seconds, peak_mb in sorted(results, key=lambda r: -r[2]):
        print(f"  {name}: {seconds:.0f} s, peak {peak_mb / 1024:.1f} GB{'' if passed else '  FAILED'}")
    write_status(results, skip, force)
    failed = [name for name, passed, *_ in results if not passed]
    if failed: sys.exit(f"notebooks failed (their tracebacks are above): {', '.join(failed)}")
    print(f"ran {len(copies)} notebooks in {time.perf_counter() - started:.0f} s; the largest peak "
          f"{max(r[3] for r in results) / 1024:.1f} GB")
    return copies

STATUS = RUN / 'status.json'

def write_status(results:list, skip:list, force:list):
    "Record how each notebook ran (passed, seconds, peak memory) and the flags, for the checker and the benchmarks."
    notebooks = {name: dict(passed=passed, seconds=round(seconds, 1), peak_mb=round(peak_mb))
                 for name, passed, seconds, peak_mb in results}
    STATUS.write_text(json.dumps(dict(notebooks=notebooks, skip=skip, force=force), indent=1))

def read_status()->dict|None:
    "What `write_status` recorded of the last run, or None where no run finished."
    return json.loads(STATUS.read_text()) if STATUS.exists() else None

_OPTION = re.compile(r'^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')
_TAGS = {('echo', 'false'): 'remove-input', ('output', 'false'): 'remove-output', ('include', 'false'): 'remove-cell'}

def _cell_options(cell:dict)->list[str]:
    "Move a cell's leading Quarto options (`#| echo: false`) into the cell tags myst-nb understands; the cell's flags."
    lines, flags = cell['source'].splitlines(), []
    while lines and (m := _OPTION.match(lines[0])):
        if tag := _TAGS.get((m[1], m[2].lower())): cell.setdefault('metadata', {}).setdefault('tags', []).append(tag)
        elif m[2].lower() == 'true': flags.append(m[1])  # nbdev writes a flag (`#| slow`) as `#| slow: true`
        lines.pop(0)
    cell['source'] = '\n'.join(lines)
    return flags

# why a build leaves out the cells of a flag: the first note on a page in full, the later ones short
SKIP_NOTES = {
    'mnist': ("it needs the MNIST files, which this build did not have. Put `t10k-images-idx3-ubyte.gz` and "
              "`t10k-labels-idx1-ubyte.gz` (the MNIST test set, from any MNIST mirror) in a folder, set "
              "`SHAPLEY_CNN_MNIST` to that folder and build again (`python tools/docs.py`)",
              "it needs the MNIST files (see the first such note on this page)"),
    'slow': ("it is a long reproduction, run by `python tools/docs.py --slow` (or `bash tools/test.sh --slow`)",
             "a long reproduction (`--slow`)"),
    'ray': ('it needs Ray: `pip install "shapley-cnn[ray]"`, then build again', "it needs Ray"),
}

def skip_note(flags:list[str], seen:set)->dict:
    "The output a page shows under a cell the build left out, saying why; `seen` holds the flags explained already."
    reasons = [SKIP_NOTES.get(flag, (f"it is flagged `{flag}`",) * 2)[flag in seen] for flag in flags]
    seen.update(flags)
    return dict(output_type='display_data', metadata={},
                data={'text/markdown': f"*Not run in this build: {'; '.join(reasons)}.*"})

def _text(value)->str: return ''.join(value) if isinstance(value, list) else value

def _outputs(outputs:list, local:str)->list:
    "Outputs as a page shows them: empty progress-bar streams dropped, widgets as a note under their figure."
    kept = []
    for out in outputs:
        if out['output_type'] == 'stream' and not re.sub(r'\x1b\[[0-9;]*[A-Za-z]|\s', '', _text(out['text'])): continue
        data = out.get('data', {})
        if WIDGET in data:
            kept.append(dict(output_type='display_data', metadata={}, data={'text/markdown': WIDGET_NOTE}))
            continue
        if 'text/markdown' in data:   # show_doc's leading rule is a transition docutils rejects inside an output
            data['text/markdown'] = re.sub(r'^---\n+', '', relative_links(_text(data['text/markdown']), local))
        kept.append(out)
    return kept

def _title_cell(raw:str)->dict:
    "nbdev's front matter (title, description) as the page's heading and lead."
    import yaml
    meta = yaml.safe_load(raw.strip().strip('-')) or {}
    text = f"# {meta.get('title', '')}\n\n" + (f"*{meta['description'].strip()}*\n" if meta.get('description') else '')
    return dict(cell_type='markdown', metadata={}, source=text)

_KEYS = {'code': ('cell_type', 'execution_count', 'id', 'metadata', 'outputs', 'source'),
         'markdown': ('cell_type', 'id', 'metadata', 'source', 'attachments'), 'raw': ('cell_type', 'id', 'metadata', 'source')}

def _valid(cell:dict, index:int)->dict:
    "A cell with nbformat's keys only (nbdev's processors add their own) and an id."
    cell = {k: v for k, v in cell.items() if k in _KEYS[cell['cell_type']]}
    cell.setdefault('id', f"cell-{index}")
    cell['metadata'] = {k: v for k, v in cell.get('metadata', {}).items() if k != 'execution'}
    return cell

def to_page(nb:dict, local:str, skipped=())->dict:
    "An nbdev-processed notebook as myst-nb renders it; links to the published docs made relative (`local` prefix); a note under each cell whose flag is in `skipped`."
    cells, seen = [], set()
    for cell in nb['cells']:
        cell['source'] = _text(cell['source'])
        if cell['cell_type'] == 'raw' and cell['source'].lstrip().startswith('---'):
            cells.append(_title_cell(cell['source'])); continue
        if 'THIS FILE WAS AUTOGENERATED' in cell['source']: continue
        if cell['cell_type'] == 'code':
            flags = _cell_options(cell)
            left_out = [flag for flag in flags if flag in skipped]
            cell['outputs'] = [skip_note(left_out, seen)] if left_out else _outputs(cell.get('outputs', []), local)
            if LEAD in flags and not left_out: cell[LEAD] = True
        else:   # links to other notebooks (`29_pruning_study.ipynb`) point at their pages
            cell['source'] = re.sub(r'\]\(\d+[a-z]?_(\w+\.ipynb)', r'](\1', relative_links(cell['source'], local))
        cells.append(cell)
    nb['cells'] = [_valid(cell, i) for i, cell in enumerate(lead_with_findings(cells))]
    return nb

LEAD = 'lead'  # the flag of a cell whose output a page shows at its top too: what the page finds

def lead_with_findings(cells:list[dict])->list[dict]:
    "The cells with, after the page's introduction, a copy of each `#| lead` cell's output and a link to where it is made."
    from docutils.nodes import make_id
    found, section = [], None
    for cell in cells:
        if cell['cell_type'] == 'markdown' and (m := re.match(r'#{2,4} (.+)', cell['source'])): section = m[1].strip()
        if cell.pop(LEAD, False) and cell['outputs']:
            where = f"[{section}](#{make_id(section)})" if section else 'further down'
            copy = {k: v for k, v in cell.items() if k != 'id'}  # a cell id of its own (`_valid` gives one)
            found += [dict(copy, metadata=dict(cell['metadata'], tags=['remove-input'])),
                      dict(cell_type='markdown', metadata={}, source=f"*Computed in {where}, below.*")]
    if not found: return cells
    first = next(i for i, cell in enumerate(cells) if i and (cell['cell_type'] == 'code' or  # the introduction ends
                                                            re.match(r'#{1,3} ', cell['source'])))
    heading = dict(cell_type='markdown', metadata={}, source="## What this page finds")
    return cells[:first] + [heading, *found] + cells[first:]

def relative_links(markdown:str, local:str)->str:
    "Links to the published docs (`](local...`) made relative; the address itself, written out, kept."
    return markdown.replace(f"]({local}", "](").replace(f'href="{local}', 'href="')

def _process_notebook(notebook:Path, local:str, skipped:list)->str:
    "Apply nbdev's doc processors (as `nbdev-docs` does) to a run notebook and write its page; the page's name."
    from fastcore.nbio import read_nb, write_nb
    from nbdev.processors import FilterDefaults
    nb = read_nb(notebook)
    FilterDefaults()(nb)
    page = PAGES / f"{page_name(notebook)}.ipynb"
    write_nb(nb, page)
    page.write_text(json.dumps(to_page(json.loads(page.read_text()), local, skipped), indent=1))
    return page.stem

def _toctree(notebooks:list[Path])->str:
    "The sidebar: one hidden toctree per part, in reading order, then the references."
    trees, groups = [], {}
    for nb in notebooks:
        if nb.stem != 'index': groups.setdefault(part(nb), []).append(page_name(nb))
    groups['Further reading'] = ['references', 'api']
    for caption, pages in groups.items():
        trees.append(f"```{{toctree}}\n:hidden:\n:caption: {caption}\n\n" + '\n'.join(pages) + "\n```")
    return '\n\n'.join(trees)

def make_pages(runs:list[Path], workers:int=2):
    "The Sphinx source: a page per run notebook, the index with the sidebar, the references and the API index."
    from nbdev.config import get_config
    cfg = get_config(NBS)
    local = f"{cfg.doc_host}{cfg.doc_baseurl}".rstrip('/') + '/'
    shutil.rmtree(PAGES, ignore_errors=True); PAGES.mkdir(parents=True)
    status = read_status()
    left_out = skipped(status['skip'], status['force']) if status else []
    with _pool(workers) as pool:
        list(pool.map(_process_notebook, runs, [local] * len(runs), [left_out] * len(runs)))
    index = PAGES / 'index.ipynb'
    nb = json.loads(index.read_text())
    nb['cells'].append(dict(cell_type='markdown', id='sidebar', metadata={}, source=_toctree(runs)))
    index.write_text(json.dumps(nb, indent=1))
    (PAGES / 'references.md').write_text(references_page(runs))
    (PAGES / 'api.md').write_text(api_index([PAGES / f"{page_name(nb)}.ipynb" for nb in runs]))
    if (NBS / 'images').exists(): shutil.copytree(NBS / 'images', PAGES / 'images')

def references(notebook:Path)->list[str]:
    "The entries of a notebook's `## References` section (markdown bullets)."
    found = []
    for cell in json.loads(notebook.read_text())['cells']:
        text = _text(cell['source'])
        if cell['cell_type'] != 'markdown' or not re.search(r'^#+\s*References\s*$', text, re.M): continue
        section = re.split(r'^#+\s*References\s*$', text, flags=re.M)[1]
        section = re.split(r'^#', section, flags=re.M)[0]
        found += [line[2:].strip() for line in section.splitlines() if line.startswith('- ')]
    return found

def _surname(entry:str)->str: return entry.split(',')[0].split(' and ')[0].split()[-1]

def references_page(notebooks:list[Path])->str:
    "The references of all the notebooks, by first author, each with the pages that cite it."
    cited = {}
    for nb in notebooks:
        for entry in references(nb): cited.setdefault(entry, []).append(page_name(nb))
    lines = ["# References", "", "The papers, theses and books the pages cite, by first author; after each, the pages "
             "that cite it.", ""]
    for entry in sorted(cited, key=lambda e: (_surname(e), e)):
        pages = ', '.join(f"[{p}]({p}.ipynb)" for p in cited[entry])
        lines.append(f"- {entry} Cited in: {pages}.")
    return '\n'.join(lines) + '\n'

_SHOW_DOC = re.compile(r'^#{2,4} (\S+)\s*$', re.M)

def documented(page:Path)->list[tuple[str, str]]:
    "The names a page documents with `show_doc`, and the first line of each docstring."
    names = []
    for cell in json.loads(page.read_text())['cells']:
        for out in cell.get('outputs', []):
            text = _text(out.get('data', {}).get('text/markdown', ''))
            if (m := _SHOW_DOC.match(text.lstrip())) and '```' in text:
                doc = re.search(r'^\*(.+)\*\s*$', text, re.M)
                names.append((m[1], doc[1] if doc else ''))
    return names

def api_index(pages:list[Path])->str:
    "A page listing every name the pages document, page by page, each linked to its documentation."
    from docutils.nodes import make_id
    lines = ["# API index", "", "Every name the pages document, page by page in reading order, with the first line "
             "of its docstring.", ""]
    for page in pages:
        if not (names := documented(page)): continue
        title = json.loads(page.read_text())['cells'][0]['source'].splitlines()[0].lstrip('# ')
        lines += [f"## [{title}]({page.stem}.ipynb)", ""]
        # plain HTML links: the anchors are show_doc's headings, which MyST does not know as targets
        lines += [f'- <a href="{page.stem}.html#{make_id(name)}"><code>{name}</code></a>: {doc}'
                  for name, doc in names] + [""]
    return '\n'.join(lines)

def build_site():
    "Render build/docs/pages with Sphinx (configuration in tools/site/; warnings are errors) and copy it to docs/."
    html = BUILD / 'html'   # myst-nb writes beside its output folder, so Sphinx writes into build/ first
    shutil.rmtree(html, ignore_errors=True)
    subprocess.run([sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-W', '--keep-going', '-E',
                    '-c', str(ROOT / 'tools' / 'site'), '-d', str(BUILD / 'doctrees'), str(PAGES), str(html)],
                   check=True)
    shutil.rmtree(SITE, ignore_errors=True)
    shutil.copytree(html, SITE, ignore=shutil.ignore_patterns('.buildinfo', '_sources'))
    (SITE / '.nojekyll').touch()   # GitHub Pages serves the folders whose names start with _
    print(f"site written to {SITE.relative_to(ROOT)}/ (open {SITE.relative_to(ROOT)}/index.html)")

if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--slow', action='store_true', help='also run the cells flagged #| slow')
    parser.add_argument('--check', action='store_true', help='check the site after building it')
    parser.add_argument('--workers', type=int, default=2, help='notebooks run at once')
    parser.add_argument('--reuse-run', action='store_true',
                        help='render the last run again without running the notebooks (for work on the look only)')
    args = parser.parse_args()
    os.chdir(ROOT)
    runs = sorted(RUN.glob('*.ipynb')) if args.reuse_run else run_notebooks(args.slow, args.workers)
    make_pages(runs, args.workers)
    build_site()
    if args.check: subprocess.run([sys.executable, str(ROOT / 'tools' / 'check_docs.py')], check=True)
