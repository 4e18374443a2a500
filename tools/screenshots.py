"""Screenshots of the built site in headless Chromium, at a desktop and a phone width, to look at as a reader would.

    python tools/screenshots.py [PAGE ...]    # default: the home page, a theory page, the pruning study, the API

Writes build/docs/shots/<page>-<width>.png: the first 3,000 pixels of the page, or, for `page#anchor`, the window
scrolled to that anchor. Needs Chromium and its driver (Debian: `apt install chromium chromium-driver`) and selenium.
"""
import shutil, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / 'build' / 'docs' / 'shots'
WIDTHS = {'desktop': 1440, 'phone': 390}
PAGES = ['index', 'games', 'pruning_study', 'api', 'filters#filtergame', 'feature_maps#an-explorer']

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

if __name__ == '__main__':
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver = browser()
    try:
        for page in sys.argv[1:] or PAGES:
            for width in WIDTHS: print(screenshot(driver, page, width).relative_to(ROOT))
    finally: driver.quit()
