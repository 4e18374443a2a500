"""Screenshots of the built site in headless Chromium, at a desktop and a phone width, to look at as a reader would.

    python tools/screenshots.py [PAGE ...]    # default: the home page, a theory page, the pruning study, the API

Writes build/docs/shots/<page>-<width>.png (the page's first 3,000 pixels; a `#anchor` after a page scrolls to it).
Needs Chromium (Debian: `apt install chromium`).
"""
import shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / 'build' / 'docs' / 'shots'
WIDTHS = {'desktop': (1440, 3000), 'phone': (390, 3000)}
PAGES = ['index', 'games', 'pruning_study', 'api', 'filters#filtergame']

def screenshot(page:str, width:str)->Path:
    "One page at one width; the path of the PNG."
    browser = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
    if browser is None: sys.exit("no Chromium found: install it (Debian: apt install chromium)")
    name, _, anchor = page.partition('#')
    url = (ROOT / 'docs' / f"{name}.html").as_uri() + (f"#{anchor}" if anchor else '')
    out = SHOTS / f"{name}{'-' + anchor if anchor else ''}-{width}.png"
    w, h = WIDTHS[width]
    if anchor: h = 1200   # a tall window cannot scroll the anchor to its top
    subprocess.run([browser, '--headless=new', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
                    f"--window-size={w},{h}", f"--screenshot={out}", url], check=True, capture_output=True, timeout=120)
    return out

if __name__ == '__main__':
    SHOTS.mkdir(parents=True, exist_ok=True)
    for page in sys.argv[1:] or PAGES:
        for width in WIDTHS: print(screenshot(page, width).relative_to(ROOT))
