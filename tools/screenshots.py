"""Screenshots of the built site in headless Chromium, at a desktop and a phone width, to look at as a reader would.

    python tools/screenshots.py [PAGE ...]          # default: the home page, a theory page, the pruning study, the API
    python tools/screenshots.py --audit [PAGE ...]  # default: every page; what overflows, at 1440 and 390 px

Writes build/docs/shots/<page>-<width>.png: the first 3,000 pixels of the page, or, for `page#anchor`, the window
scrolled to that anchor. `--audit` measures every page in the browser instead: the page's own width against the
window's (a page that scrolls sideways), outputs and tables wider than their box (hidden behind a scroll bar), figures
shrunk to fit and how far down the first figure or table of the page sits. Needs Chromium and its driver (Debian:
`apt install chromium chromium-driver`) and selenium.
"""
import shutil, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / 'build' / 'docs' / 'shots'
WIDTHS = {'desktop': 1440, 'phone': 390}
PAGES = ['index', 'games', 'pruning_study', 'api', 'filters#filtergame', 'feature_maps#an-explorer']
AUDIT = r"""
const y = el => el ? Math.round(el.getBoundingClientRect().top + window.scrollY) : null;
const wide = sel => [...document.querySelectorAll(sel)].filter(e => e.scrollWidth > e.clientWidth + 2)
  .map(e => (e.innerText || '').trim().split('\n')[0].slice(0, 60));
const shrunk = [...document.querySelectorAll('article img')].filter(i => i.naturalWidth > 2.3 * i.clientWidth)
  .map(i => i.getAttribute('src').split('/').pop().slice(0, 20));
return {page_width: document.scrollingElement.scrollWidth, outputs: wide('div.cell_output pre, div.cell_output table'),
        code: wide('div.cell_input pre').length, shrunk: shrunk,
        first_result: y(document.querySelector('article .cell_output img, article .cell_output table.dataframe'))};
"""

def browser(width:int=1400, height:int=1100):
    "Headless Chromium driven by the system's chromedriver (selenium would otherwise try to download one)."
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    driver = shutil.which('chromedriver')
    if driver is None: sys.exit("no chromedriver found: install it (Debian: apt install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', f'--window-size={width},{height}'):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=options)

def screenshot(driver, page:str, width:str)->Path:
    "One page at one width; the path of the PNG."
    name, _, anchor = page.partition('#')
    driver.set_window_size(WIDTHS[width], 1200 if anchor else 3000)
    driver.get((ROOT / 'docs' / f"{name}.html").as_uri() + (f"#{anchor}" if anchor else ''))
    if anchor: driver.execute_script("document.getElementById(arguments[0]).scrollIntoView()", anchor)
    time.sleep(1.5)   # MathJax typesets
    out = SHOTS / f"{name}{'-' + anchor if anchor else ''}-{width}.png"
    driver.save_screenshot(str(out))
    return out

def audit(driver, page:str, width:str)->dict:
    "What overflows on one page at one width (see the module's docstring)."
    driver.set_window_size(WIDTHS[width], 1200)
    driver.get((ROOT / 'docs' / f"{page}.html").as_uri()); time.sleep(0.8)
    return driver.execute_script(AUDIT)

if __name__ == '__main__':
    args = sys.argv[1:]
    driver = browser()
    try:
        if args[:1] == ['--audit']:
            pages = args[1:] or sorted(p.stem for p in (ROOT / 'docs').glob('*.html') if p.stem not in ('genindex', 'search'))
            for page in pages:
                for width in WIDTHS:
                    found = audit(driver, page, width)
                    sideways = found['page_width'] > WIDTHS[width]
                    print(f"{page} at {WIDTHS[width]} px: {'SCROLLS SIDEWAYS; ' if sideways else ''}"
                          f"{len(found['outputs'])} wide outputs {found['outputs'][:3]}, {found['code']} wide code cells, "
                          f"{len(found['shrunk'])} figures shrunk, first result at {found['first_result']} px")
        else:
            SHOTS.mkdir(parents=True, exist_ok=True)
            for page in args or PAGES:
                for width in WIDTHS: print(screenshot(driver, page, width).relative_to(ROOT))
    finally: driver.quit()
