"""Check the built site in docs/ as a reader would need it: run by tools/test.sh after `python tools/docs.py`.

    python tools/check_docs.py

- every notebook in nbs/ has a page, and so do the references and the API index;
- every page shows the figures its notebook makes (image outputs and markdown images), each file present, and no
  figure came out as text only (`<Figure size ...>` without its image);
- every link and asset inside the site resolves, anchors included, and the README's figures exist;
- nothing is fetched from the network: no script, stylesheet, font or image from another host;
- no page shows a traceback or an error output; a widget is shown with its figure, not as an empty box.
"""
import json, re, sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit, unquote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from docs import NBS, SITE, RUN, PAGES, WIDGET, page_name, _text

IMAGE_TYPES = ('image/png', 'image/jpeg', 'image/svg+xml')

class Page(HTMLParser):
    "The ids, links, assets and images of one HTML page, and its text."
    def __init__(self, path:Path):
        super().__init__()
        self.ids, self.links, self.assets, self.images, self.text = set(), [], [], [], []
        self.feed(path.read_text(encoding='utf-8'))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if 'id' in attrs: self.ids.add(attrs['id'])
        if tag == 'a' and attrs.get('name'): self.ids.add(attrs['name'])
        if tag == 'a' and attrs.get('href'): self.links.append(attrs['href'])
        if tag in ('script', 'img', 'source', 'iframe') and attrs.get('src'): self.assets.append(attrs['src'])
        if tag == 'link' and attrs.get('href') and attrs.get('rel') not in ('canonical',): self.assets.append(attrs['href'])
        if tag == 'img' and '_images/' in attrs.get('src', ''): self.images.append(attrs['src'])

    def handle_data(self, data): self.text.append(data)

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
    readme = NBS.parent / 'README.md'
    for image in re.findall(r'!\[[^\]]*\]\(([^)\s]+)\)', readme.read_text()):
        if not urlsplit(image).scheme and not (readme.parent / image).is_file(): problems.append(f"README.md: no {image}")
    for nb in sorted(RUN.glob('*.ipynb')):
        problems += [f"{nb.name} {p}" for p in output_problems(nb)]
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
          f"no network assets; no tracebacks")
