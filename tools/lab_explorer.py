"""Use the pruning explorer in JupyterLab as a reader would, headless, and take screenshots.

    python tools/lab_explorer.py

Starts JupyterLab (the `notebooks` extra) on the notebooks, opens `22_feature_maps.ipynb` in headless Chromium,
runs all its cells, waits for the explorer widget, its slider five steps to the right, and writes
build/docs/shots/lab-explorer-before.png and lab-explorer-after.png. Needs Chromium and its driver (Debian:
`apt install chromium chromium-driver`) and selenium (`pip install selenium`).
"""
import os, socket, subprocess, sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import ROOT, SHOTS, browser
NOTEBOOK = '22_feature_maps.ipynb'

def free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def start_lab(port:int)->subprocess.Popen:
    "JupyterLab on nbs/, no token, the app exposed to the page's scripts (to run all cells)."
    cmd = [sys.executable, '-m', 'jupyter', 'lab', '--no-browser', f'--port={port}', '--ServerApp.token=',
           '--ServerApp.password=', '--LabApp.expose_app_in_browser=True', f'--ServerApp.root_dir={ROOT / "nbs"}']
    if hasattr(os, 'geteuid') and os.geteuid() == 0: cmd.append('--allow-root')
    lab = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close(); return lab
        except OSError: time.sleep(0.5)
    lab.kill(); sys.exit("JupyterLab did not start")

def wait(driver, css:str, timeout:float=600):
    "The first element matching `css`, waiting for it."
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout, 0.5).until(lambda d: d.find_element(By.CSS_SELECTOR, css))

def main():
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.action_chains import ActionChains
    SHOTS.mkdir(parents=True, exist_ok=True)
    port = free_port(); lab = start_lab(port); driver = browser(1400, 1100)
    try:
        driver.get(f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK}")
        wait(driver, '.jp-Notebook .jp-Cell', 120)
        wait(driver, '.jp-Notebook-ExecutionIndicator[data-status="idle"], .jp-DebuggerBugButton', 120)
        time.sleep(5)   # the kernel starts
        driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        slider = wait(driver, '.widget-hslider .noUi-handle', 900)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
        time.sleep(8)   # the explorer draws its first figure
        driver.save_screenshot(str(SHOTS / 'lab-explorer-before.png'))
        for button in driver.find_elements(By.XPATH, "//button[normalize-space()='No']"): button.click()  # news toast
        track = driver.find_element(By.CSS_SELECTOR, '.widget-hslider .noUi-target')
        steps = int(driver.execute_script("return document.querySelector('.widget-hslider .noUi-handle')"
                                          ".getAttribute('aria-valuemax')").split('.')[0])
        ActionChains(driver).click_and_hold(slider).move_by_offset(round(track.size['width'] * 6 / steps), 0) \
            .release().perform()
        readout = driver.execute_script(
            "return document.querySelector('.widget-hslider .widget-readout').textContent")
        time.sleep(8)   # the explorer redraws
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
        driver.save_screenshot(str(SHOTS / 'lab-explorer-after.png'))
        titles = driver.execute_script(
            "return [...document.querySelectorAll('.widget-output img')].length")
        print(f"slider moved to {readout}; {titles} figure(s) in the widget's output; screenshots in "
              f"{SHOTS.relative_to(ROOT)}/lab-explorer-before.png and lab-explorer-after.png")
    finally:
        driver.quit(); lab.terminate(); lab.wait(30)

if __name__ == '__main__': main()
