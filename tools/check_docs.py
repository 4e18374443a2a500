"""Check the built site in docs/ as a reader would need it: run by tools/test.sh after `python tools/docs.py`.

    python tools/check_docs.py

- every notebook in nbs/ has a page, and so do the references and the API index;
- every page shows the figures its notebook makes (image outputs and markdown images), each file present, and no
  figure came out as text only (`<Figure size ...>` without its image);
- every link and asset inside the site resolves, anchors included, and the README's figures exist;
- nothing is fetched from the network: no script, stylesheet, font or image from another host;
- no page shows a traceback or an error output; a widget is shown with its figure, not as an empty box;
- everything fits the page's column at 1440 px (896 px): no output line over 120 characters, no table wider than
  the column (estimated from its cells), no figure wider than the column or taller than 1,400 px; no empty link;
- the run the pages come from finished: every notebook passed, and every cell the build runs has run (a page of a
  notebook that failed, or lost its outputs, is refused); the cells it left out carry a note that says why.
"""
import json, re, sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit, unquote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from docs import NBS, SITE, RUN, PAGES, WIDGET, page_name, _text, read_status

IMAGE_TYPES = ('image/png', 'image/jpeg', 'image/svg+xml')
COLUMN_PX, LINE_CHARS, TALLEST_PX = 896, 120, 1400  # the column at 1440 px (tools/site/_static/site.css) and 12 px code

class Page(HTMLParser):
    "The ids, links, assets and images of one HTML page, its text, and its links that show nothing or go nowhere."
    def __init__(self, path:Path):
        super().__init__()
        self.ids, self.links, self.assets, self.images, self.text, self.empty = set(), [], [], [], [], []
        self._link = None  # the link being read: its href, its text, whether it holds an image
        self.feed(path.read_text(encoding='utf-8'))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if 'id' in attrs: self.ids.add(attrs['id'])
        if tag == 'a' and attrs.get('name'): self.ids.add(attrs['name'])
        if tag == 'a' and attrs.get('href'): self.links.append(attrs['href'])
        if tag == 'a' and 'headerlink' not in (attrs.get('class') or ''): self._link = [attrs.get('href'), '', False]
        if tag == 'img' and self._link: self._link[2] = True
        if tag in ('script', 'img', 'source', 'iframe') and attrs.get('src'): self.assets.append(attrs['src'])
        if tag == 'link' and attrs.get('href') and attrs.get('rel') not in ('canonical',): self.assets.append(attrs['href'])
        if tag == 'img' and '_images/' in attrs.get('src', ''): self.images.append(attrs['src'])

    def handle_endtag(self, tag):
        if tag == 'a' and self._link:
            href, text, image = self._link
            if not href or not (text.strip() or image): self.empty.append(f"<a href={href!r}>{text.strip()}</a>")
            self._link = None

    def handle_data(self, data):
        self.text.append(data)
        if self._link: self._link[1] += data

def expected_images(page:Path)->int:
    "Images a processed page shows: image outputs of cells not removed, and markdown images."
    count = 0
    for cell in json.loads(page.read_text())['cells']:
        tags = cell.get('metadata', {}).get('tags', [])
        if cell['cell_type'] == 'markdown': count += len(re.findall(r'!\[[^\]]*\]\(', _text(cell['source'])))
        elif 'remove-cell' not in tags and 'remove-output' not in tags:
            count += sum(any(t in out.get('data', {}) for t in IMAGE_TYPES) for out in cell.get('outputs', []))
    return count

def output_problems(run:Path)->list[str]:
    "Error outputs, figures that came out as text only, and widgets without a figure, in a run notebook."
    problems = []
    for i, cell in enumerate(json.loads(run.read_text())['cells']):
        outputs = cell.get('outputs', [])
        for out in outputs:
            data, text = out.get('data', {}), _text(out.get('text', ''))
            if out['output_type'] == 'error': problems.append(f"cell {i}: an error output")
            if 'Traceback (most recent call last)' in text: problems.append(f"cell {i}: a traceback")
            if '<Figure size' in _text(data.get('text/plain', '')) and not any(t in data for t in IMAGE_TYPES):
                problems.append(f"cell {i}: a figure shown as text only")
        widget = any(WIDGET in out.get('data', {}) for out in outputs)
        if widget and not any(t in out.get('data', {}) for out in outputs for t in IMAGE_TYPES):
            problems.append(f"cell {i}: a widget without a figure of its state")
    return problems

class _Table(HTMLParser):
    "The cells of an HTML table, row by row, each with whether it is a header (in `thead`, where lines may wrap)."
    def __init__(self, html:str):
        super().__init__(); self.rows, self.cell, self.head = [], None, False; self.feed(html)
    def handle_starttag(self, tag, attrs):
        if tag == 'thead': self.head = True
        if tag == 'tbody': self.head = False
        if tag == 'tr': self.rows.append([])
        if tag in ('td', 'th'): self.cell = ''
    def handle_endtag(self, tag):
        if tag in ('td', 'th') and self.cell is not None:
            text = self.cell.strip()  # a header wraps at its spaces (site.css): its longest word sets its width
            self.rows[-1].append(max(map(len, text.split()), default=0) if self.head else len(text)); self.cell = None
    def handle_data(self, data):
        if self.cell is not None: self.cell += data

def table_width(html:str)->int:
    "A table's width in CSS pixels as the site draws a dataframe (0.8em cells, 0.6em padding), from its widest cells."
    rows = [r for r in _Table(html).rows if r]
    if not rows: return 0
    widths = [max((r[i] for r in rows if i < len(r)), default=0) for i in range(max(map(len, rows)))]
    return round(6.4 * sum(widths) + 15 * len(widths))  # measured in Chromium: within 10% (above) on this site's tables

def width_problems(run:Path)->list[str]:
    "Output lines, tables and figures of a run notebook that do not fit the page's column at 1440 px."
    problems = []
    for i, cell in enumerate(json.loads(run.read_text())['cells']):
        for out in cell.get('outputs', []):
            data, meta = out.get('data', {}), out.get('metadata', {}).get('image/png', {})
            text = _text(out.get('text', '')) or ('' if 'text/html' in data or any(t in data for t in IMAGE_TYPES)
                                                  else _text(data.get('text/plain', '')))
            long = [line for line in text.splitlines() if len(line) > LINE_CHARS]
            if long: problems.append(f"cell {i}: {len(long)} output lines over {LINE_CHARS} characters ({long[0][:50]!r}...)")
            html = _text(data.get('text/html', ''))
            if 'dataframe' in html and (w := table_width(html)) > COLUMN_PX:
                problems.append(f"cell {i}: a table about {w} px wide (the column: {COLUMN_PX} px)")
            if meta.get('width', 0) > COLUMN_PX or meta.get('height', 0) > TALLEST_PX:
                problems.append(f"cell {i}: a figure of {meta['width']}x{meta['height']} px (the column: {COLUMN_PX} px)")
    return problems

def run_problems(status:dict|None, runs:list[Path])->list[str]:
    "What says a page does not show its notebook's run: no record of the run, a failed notebook, a cell not run."
    from nbdev.test import nb_test_cells
    if status is None: return ["no record of the notebooks' run (build/docs/run/status.json): run `python tools/docs.py`"]
    problems = [f"{name} failed when the site was built: its page would show no outputs"
                for name, run in status['notebooks'].items() if not run['passed']]
    problems += [f"{run.name} was not run in this build" for run in runs if run.name not in status['notebooks']]
    for run in runs:
        if run.name not in status['notebooks'] or not status['notebooks'][run.name]['passed']: continue
        unrun = [cell.idx_ for cell in nb_test_cells(run, status['skip'], status['force'])
                 if cell.get('execution_count') is None]
        if unrun: problems.append(f"{run.name}: cells {unrun} were to run but have no outputs of a run")
    return problems

def resolve(page:Path, url:str)->tuple[Path, str]:
    "The file and the anchor a relative link of `page` points to."
    parts = urlsplit(url)
    target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
    if target.is_dir(): target = target / 'index.html'
    return target, unquote(parts.fragment)

def check_site()->list[str]:
    problems = []
    notebooks = sorted(NBS.glob('*.ipynb'))
    wanted = [page_name(nb) for nb in notebooks] + ['references', 'api']
    problems += [f"no page for {name}" for name in wanted if not (SITE / f"{name}.html").exists()]
    parsed = {path.resolve(): Page(path) for path in SITE.rglob('*.html')}
    for name in wanted:
        path = (SITE / f"{name}.html").resolve()
        if path not in parsed: continue
        page, source = parsed[path], PAGES / f"{name}.ipynb"
        if source.exists() and len(page.images) != (n := expected_images(source)):
            problems.append(f"{name}.html shows {len(page.images)} figures, its notebook makes {n}")
        text = ''.join(page.text)
        if 'Traceback (most recent call last)' in text: problems.append(f"{name}.html shows a traceback")
        problems += [f"{name}.html: a link that shows nothing or goes nowhere: {link}" for link in page.empty]
        if '<>' in text: problems.append(f"{name}.html shows an empty address '<>'")
    readme = NBS.parent / 'README.md'
    for image in re.findall(r'!\[[^\]]*\]\(([^)\s]+)\)', readme.read_text()):
        if not urlsplit(image).scheme and not (readme.parent / image).is_file(): problems.append(f"README.md: no {image}")
    runs = sorted(RUN.glob('*.ipynb'))
    problems += run_problems(read_status(), runs)
    for nb in runs:
        problems += [f"{nb.name} {p}" for p in output_problems(nb) + width_problems(nb)]
    for path, page in parsed.items():
        where = path.relative_to(SITE.resolve())
        for url in page.assets:
            if urlsplit(url).scheme or url.startswith('//'): problems.append(f"{where}: asset from the network: {url}")
            elif not (target := resolve(path, url)[0]).is_file() or target.stat().st_size == 0:
                problems.append(f"{where}: missing asset {url}")
        for url in page.links:
            if urlsplit(url).scheme or url.startswith('//'): continue
            target, anchor = resolve(path, url)
            if not target.exists(): problems.append(f"{where}: broken link {url}")
            elif anchor and target.suffix == '.html' and anchor not in parsed[target].ids:
                problems.append(f"{where}: no anchor #{anchor} in {target.name} (link {url})")
    return problems

if __name__ == '__main__':
    if not (SITE / 'index.html').exists(): sys.exit("no site in docs/: run `python tools/docs.py` first")
    problems = check_site()
    pages = len(list(SITE.glob('*.html')))
    if problems: sys.exit(f"the site in docs/ has {len(problems)} problems:\n  " + '\n  '.join(problems))
    print(f"docs/ checked: {pages} pages; every notebook has its page and figures; links and anchors resolve; "
          f"no network assets; no tracebacks; every notebook ran")
