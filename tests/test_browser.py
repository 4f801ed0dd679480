"""A real browser: JupyterLab on a loopback port, headless Chromium, a learner's screen, pictures and widgets.

This is what a learner does on the first morning of a workshop, on a 1280x720
screen with JupyterLab's file browser open: open the learner copy of the
start-here notebook (``notebooks/learner/``, written by ``tools/learner.py``),
run it, see the blank exercise stop its checking cell with the hint, type the
answer, and see the check pass. Then the notebooks with checklists, hex
dumps, tables, the Merkle explorer and the attack matrix are run and measured,
in JupyterLab's light and dark themes: no rendered HTML output is wider than
its output area, no table squeezes its text to a letter per line, no text
has a contrast ratio under 4.5:1 against the background it is drawn on, the
attack matrix's labkit column is on screen, and the Merkle explorer's sliders
stay in view at 32 leaves.

Screenshots go to ``.browser-shots/`` at the top of the repository (ignored
by git; ``LABKIT_BROWSER_SHOTS`` names another folder), one per notebook and
theme plus close-ups of the pictures; CI keeps them as artefacts.

Chromium and chromedriver come from the Debian packages `chromium` and
`chromium-driver` (`.ci/run` installs them); Selenium drives them. No browser
is downloaded, and Chromium may resolve nothing but loopback.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from labkit.display import pictures
from tests.conftest import require_tool, stop_process

ROOT = Path(__file__).resolve().parent.parent
START_HERE = "00-start-here.ipynb"
TLOG = "02-transparency-log.ipynb"
MATRIX = "11-attack-catalogue.ipynb"
#: The notebooks measured for overflow and contrast besides 02: hex dumps and key tables (01), the 24-step
#: checklists and failure cards (05), the attack matrix (11).
#: ``LABKIT_BROWSER_SCREEN=all`` measures every notebook but 00 and 02 instead (about 25 s each).
SCREEN_NOTEBOOKS: tuple[str, ...] = ("01-keys-and-signatures.ipynb", "05-verification-step-by-step.ipynb", MATRIX)
#: The measured notebooks that show hashes (shortened, whole on hover and copy) and HTML output at all.
HASH_NOTEBOOKS = (TLOG, *SCREEN_NOTEBOOKS[:2])
HTML_NOTEBOOKS = (TLOG, *SCREEN_NOTEBOOKS)
if os.environ.get("LABKIT_BROWSER_SCREEN") == "all":
    SCREEN_NOTEBOOKS = tuple(sorted(
        p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb") if p.name not in (START_HERE, TLOG)))
#: A small laptop or a projector: JupyterLab in a 1280x720 viewport, the file browser open beside the notebook.
VIEWPORT = (1280, 720)
THEMES = ("JupyterLab Light", "JupyterLab Dark")
#: WCAG 2.1 AA for body text.
MIN_CONTRAST = 4.5
SHOTS = Path(os.environ.get("LABKIT_BROWSER_SHOTS") or ROOT / ".browser-shots")

_SPEC = importlib.util.spec_from_file_location("learner", ROOT / "tools" / "learner.py")
assert _SPEC is not None and _SPEC.loader is not None
learner = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(learner)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Flags for a quiet, offline, throwaway Chromium (the user-data dir is added per run).
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
    # Anything but loopback fails to resolve: the lab must need nothing from outside.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)

#: JavaScript run in the page: a summary of the current notebook's cells (needs expose_app_in_browser).
CELLS_JS = """
const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
if (!panel || !panel.content || !panel.content.widgets) { return null; }
const ctx = panel.sessionContext;
const kernel = ctx && ctx.session && ctx.session.kernel;
return {
  kernel: kernel ? kernel.status : 'none',
  path: panel.context.path,
  cells: panel.content.widgets.map((cell) => {
    const m = cell.model;
    if (m.type !== 'code') { return {type: m.type}; }
    const outs = m.outputs.toJSON();
    return {
      type: 'code',
      source: m.sharedModel.getSource().slice(0, 80),
      count: m.executionCount,
      tags: m.getMetadata('tags') || [],
      errors: outs.filter((o) => o.output_type === 'error').map((o) => o.ename + ': ' + o.evalue),
      text: cell.outputArea.node.innerText.slice(0, 2000),
    };
  }),
};
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Lab:
    url: str
    token: str
    root: Path


@pytest.fixture(scope="module")
def jupyter_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab on 127.0.0.1 with a token, serving a copy of the notebooks (the repo's stay untouched)."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns("learner"))
    # The learner copies, as `make lab` and Binder open them: blanks where the answers go.
    learner.write_all(force=True, dest=root / "notebooks" / "learner")
    if (ROOT / "data").is_dir():
        shutil.copytree(ROOT / "data", root / "data")
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(root / ".jupyter"),
        "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings"),
        "NO_PROXY": "127.0.0.1,localhost",
    }
    # Render every cell (no virtual scrolling), so pictures far down the notebook are in the DOM.
    tracker = root / ".settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    # No "get notified about Jupyter news?" toast over the screenshots, and no fetch behind it.
    notes = root / ".settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notes.parent.mkdir(parents=True)
    notes.write_text(json.dumps({"fetchNews": "false"}))
    log = (root / "jupyter.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.workspaces_dir={root / '.workspaces'}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        ],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail("JupyterLab exited early:\n" + (root / "jupyter.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as resp:
                    json.load(resp)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not answer:\n" + (root / "jupyter.log").read_text()[-3000:])
                time.sleep(0.5)
        yield Lab(url=url, token=token, root=root)
    finally:
        stop_process(proc, grace=20)
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless system Chromium driven by the system chromedriver."""
    chromium = require_tool("chromium", "the browser test drives JupyterLab in headless Chromium")
    driver_path = require_tool("chromedriver", "Selenium drives Chromium through chromedriver (chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium (the test extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    # Never let Selenium Manager look for (or download) a driver: we name the Debian one.
    os.environ.setdefault("SE_OFFLINE", "true")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    # The page gets exactly the viewport a 1280x720 screen gives it, whatever the window decorations.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1, "mobile": False,
    })
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(what: str, timeout: float, probe: Any, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


@pytest.fixture(scope="module")
def shots() -> Path:
    """Where the screenshots go (kept after the run: CI uploads them)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def _shot_name(notebook: str) -> str:
    return notebook.removesuffix(".ipynb").replace("/", "-")


def open_notebook(driver: Any, lab: Lab, notebook: str) -> None:
    """Open `notebook` (a path under notebooks/) with the file browser beside it; wait for an idle kernel."""
    if not (lab.root / "notebooks" / notebook).exists():
        pytest.fail(f"notebooks/{notebook} is missing")
    driver.get(f"{lab.url}/lab/tree/notebooks/{notebook}?reset&token={lab.token}")

    def ready() -> Any:
        state = driver.execute_script(CELLS_JS)
        return state if state and state["path"].endswith(notebook) and state["kernel"] == "idle" else None

    _wait(f"{notebook} to open with an idle kernel", 120, ready)
    driver.execute_script("window.jupyterapp.shell.activateById('filebrowser')")
    _wait("the file browser to open", 10, lambda: driver.execute_script(
        "const fb = document.getElementById('filebrowser');"
        "return !window.jupyterapp.shell.leftCollapsed && fb && fb.getBoundingClientRect().width > 150;"))


def _finished(driver: Any) -> Any:
    """The cell summary once the kernel is idle and every code cell ran (or an untagged error stopped Run All)."""
    state = driver.execute_script(CELLS_JS)
    code = [c for c in state["cells"] if c["type"] == "code" and c["source"].strip()]
    if state["kernel"] != "idle" or not code:
        return None
    if all(c["count"] is not None for c in code):
        return state
    # An error in an untagged cell stops Run All: the rest never runs, so stop waiting.
    if any(c["errors"] and "raises-exception" not in c["tags"] for c in code):
        return state
    return None


def unexpected_errors(state: dict[str, Any]) -> list[str]:
    """The errors of cells not tagged ``raises-exception``."""
    return [
        f"cell {i}: {err}" for i, c in enumerate(state["cells"]) if c["type"] == "code"
        for err in c["errors"] if "raises-exception" not in c["tags"]
    ]


def run_all_cells(driver: Any, lab: Lab, notebook: str, shots: Path, *, allow_errors: bool = False) -> dict[str, Any]:
    """Open `notebook` in JupyterLab, Run All, wait until every cell ran; return the cell summary."""
    open_notebook(driver, lab, notebook)
    driver.execute_script("return window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        state = _wait(f"every cell of {notebook} to run", 300, lambda: _finished(driver), interval=1.0)
    finally:
        driver.save_screenshot(str(shots / f"{_shot_name(notebook)}-end.png"))
    if not allow_errors:
        bad = unexpected_errors(state)
        assert not bad, f"{notebook}: cells raised errors in the browser:\n" + "\n".join(bad)
    return dict(state)


#: Append a code cell holding arguments[0] at the end of the notebook and run it (returns when it ran).
APPEND_AND_RUN_JS = """
const app = window.jupyterapp;
const nb = app.shell.currentWidget.content;
nb.activeCellIndex = nb.widgets.length - 1;
return app.commands.execute('notebook:insert-cell-below').then(() => {
  nb.activeCell.model.sharedModel.setSource(arguments[0]);
  return app.commands.execute('notebook:run-cell');
}).then(() => nb.widgets.length - 1);
"""


def append_and_run(driver: Any, source: str) -> int:
    """Run `source` in a new last cell (as a learner adding a cell would); return its index."""
    index = int(driver.execute_script(APPEND_AND_RUN_JS, source))
    _wait("the new cell to run", 120, lambda: _finished(driver), interval=0.5)
    return index


def set_theme(driver: Any, theme: str) -> None:
    """Switch JupyterLab's theme (as Settings > Theme does) and wait until its CSS applies."""
    driver.execute_script("return window.jupyterapp.commands.execute('apputils:change-theme', {theme: arguments[0]})",
                          theme)
    light = "true" if "Light" in theme else "false"
    _wait(f"the {theme} theme", 30, lambda: driver.execute_script(
        "return document.body.dataset.jpThemeName === arguments[0] && document.body.dataset.jpThemeLight === "
        "arguments[1] && getComputedStyle(document.body).getPropertyValue('--jp-layout-color1').trim() !== ''",
        theme, light))
    time.sleep(0.5)  # the notebook repaints with the new variables


def _shoot_first(driver: Any, css: str, path: Path) -> bool:
    """Scroll the first element matching `css` into view and screenshot it; False if there is none."""
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR, css)
    visible = [el for el in found if el.size["width"] > 0 and el.size["height"] > 0]
    if not visible:
        return False
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", visible[0])
    time.sleep(0.3)
    visible[0].screenshot(str(path))
    return True


#: Rendered SVG pictures in cell outputs: inline <svg> (HTML outputs) or <img> (image/svg+xml outputs).
PICTURE = ".jp-OutputArea-output svg, .jp-OutputArea-output img[src^='data:image/svg+xml']"
WIDGET = ".jp-OutputArea-output .jupyter-widgets, .jp-OutputArea-output .widget-slider"

#: How many tree-like pictures are on screen: SVGs with at least three shapes (nodes and edges).
PICTURES_JS = """
const shapes = 'rect, circle, ellipse, line, path, polygon, polyline';
return Array.from(document.querySelectorAll(arguments[0])).filter((el) => {
  const box = el.getBoundingClientRect();
  if (box.width <= 0 || box.height <= 0) { return false; }
  let svg = el;
  if (el.tagName.toLowerCase() === 'img') {
    if (!el.complete || el.naturalWidth === 0) { return false; }
    const src = el.getAttribute('src');
    const comma = src.indexOf(',');
    const body = src.slice(0, comma).endsWith(';base64') ? atob(src.slice(comma + 1))
                                                         : decodeURIComponent(src.slice(comma + 1));
    svg = new DOMParser().parseFromString(body, 'image/svg+xml').documentElement;
  }
  return svg.querySelectorAll(shapes).length >= 3;
}).length;
"""

#: Measures the current notebook's rendered HTML and widget outputs: what overflows, which table cells are
#: squeezed to a letter per line, which text has too little contrast (WCAG 2.1 relative luminance, colours
#: composited over every translucent background up to the first opaque one). Text inside SVG pictures and
#: deliberately scrollable <pre> blocks are not measured.
SCREEN_JS = r"""
const minContrast = arguments[0];
const root = window.jupyterapp.shell.currentWidget.node;
const outputs = Array.from(root.querySelectorAll(
  '.jp-OutputArea-output[data-mime-type="text/html"], '
  + '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.widget-view+json"]'));
const where = (el) => {
  const cell = el.closest('.jp-Cell');
  const cells = Array.from(root.querySelectorAll('.jp-Cell'));
  return 'cell ' + cells.indexOf(cell);
};
const parse = (text) => {
  let m = text.match(/^rgba?\(([^)]*)\)$/);
  if (m) {
    const p = m[1].split(/[ ,\/]+/).filter((x) => x).map(Number);
    return [p[0] / 255, p[1] / 255, p[2] / 255, p.length > 3 ? p[3] : 1];
  }
  m = text.match(/^color\(srgb ([^)]*)\)$/);
  if (m) {
    const p = m[1].split(/[ \/]+/).filter((x) => x).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  return null;
};
const over = (top, bottom) => {
  const a = top[3] + bottom[3] * (1 - top[3]);
  if (a === 0) { return [0, 0, 0, 0]; }
  const mix = (i) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a;
  return [mix(0), mix(1), mix(2), a];
};
const unparsed = [];
const background = (el) => {
  const layers = [];
  for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
    const text = getComputedStyle(node).backgroundColor;
    const c = parse(text);
    if (!c) { unparsed.push(text); continue; }
    if (c[3] > 0) { layers.push(c); }
    if (c[3] >= 1) { break; }
  }
  let bg = [1, 1, 1, 1];
  for (let i = layers.length - 1; i >= 0; i--) { bg = over(layers[i], bg); }
  return bg;
};
const lum = (c) => {
  const f = (v) => (v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
  return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
};
const overflow = [];
const squeezed = [];
const lowContrast = [];
let measured = 0;
for (const out of outputs) {
  if (out.scrollWidth > out.clientWidth + 1) {
    overflow.push(where(out) + ': output ' + out.scrollWidth + 'px wide in ' + out.clientWidth + 'px');
  }
  for (const box of out.querySelectorAll('div, table')) {
    const style = getComputedStyle(box);
    if (!['auto', 'scroll'].includes(style.overflowX) || box.scrollWidth <= box.clientWidth + 1) { continue; }
    if (box.querySelector('table')) {
      overflow.push(where(box) + ': a table scrolls sideways (' + box.scrollWidth + 'px in ' + box.clientWidth + 'px)');
    }
  }
  for (const td of out.querySelectorAll('td, th')) {
    // Words broken to a few letters per line (a column too narrow for its words).
    const cellWalker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    for (let t = cellWalker.nextNode(); t; t = cellWalker.nextNode()) {
      const text = t.textContent.trim();
      if (text.length < 4) { continue; }
      const words = text.split(/\s+|(?<=-)/).length;  // a line may end at a space or after a hyphen
      const range = document.createRange();
      range.selectNodeContents(t);
      const lines = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size;
      if (lines > words && text.length / lines < 5) {
        squeezed.push(where(td) + ': "' + t.textContent.trim().slice(0, 40) + '" on ' + lines + ' lines, '
          + Math.round(td.getBoundingClientRect().width) + 'px wide');
        break;
      }
    }
  }
  const walker = document.createTreeWalker(out, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const el = t.parentElement;
    if (!t.textContent.trim() || seen.has(el) || el.closest('svg')) { continue; }
    seen.add(el);
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) { continue; }
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || parseFloat(style.opacity) === 0) { continue; }
    const fgRaw = parse(style.color);
    if (!fgRaw) { unparsed.push(style.color); continue; }
    const bg = background(el);
    const fg = over(fgRaw, bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (hi + 0.05) / (lo + 0.05);
    measured += 1;
    if (ratio < minContrast) {
      lowContrast.push(where(el) + ': "' + t.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2)
        + ':1 (' + style.color + ' on ' + background(el).map((v) => v.toFixed(2)).join(',') + ')');
    }
  }
}
return {outputs: outputs.length, measured, overflow, squeezed, lowContrast, unparsed: Array.from(new Set(unparsed))};
"""


#: Close-ups kept per notebook and theme (the first of each kind in the notebook).
CLOSE_UPS = {
    "checklist": ".jp-OutputArea-output table.labkit-checklist",
    "failure-card": ".jp-OutputArea-output .labkit-failure",
    "bytes": ".jp-OutputArea-output[data-mime-type='text/html'] pre",
    "matrix": ".jp-OutputArea-output table.labkit-attack-matrix",
}


def measure_screen(driver: Any, notebook: str, shots: Path) -> dict[str, list[str]]:
    """In each theme: screenshot, then the overflow, squeezed-cell and contrast findings (prefixed by theme)."""
    found: dict[str, list[str]] = {"overflow": [], "squeezed": [], "lowContrast": [], "unparsed": []}
    for theme in THEMES:
        set_theme(driver, theme)
        tag = "dark" if "Dark" in theme else "light"
        driver.save_screenshot(str(shots / f"{_shot_name(notebook)}-{tag}.png"))
        for name, css in CLOSE_UPS.items():
            _shoot_first(driver, css, shots / f"{_shot_name(notebook)}-{tag}-{name}.png")
        result = driver.execute_script(SCREEN_JS, MIN_CONTRAST)
        if notebook in HTML_NOTEBOOKS:
            assert result["outputs"] > 0 and result["measured"] > 0, f"{notebook}: no HTML output to measure"
        for key in found:
            found[key].extend(f"{tag}: {item}" for item in result[key])
    set_theme(driver, THEMES[0])
    return found


def assert_readable(driver: Any, notebook: str, shots: Path) -> None:
    """Nothing overflows, nothing is squeezed, every text contrasts, in the light and the dark theme."""
    found = measure_screen(driver, notebook, shots)
    problems = [f"{kind}: {item}" for kind, items in found.items() for item in items]
    assert not problems, f"{notebook} at {VIEWPORT[0]}x{VIEWPORT[1]}, file browser open:\n" + "\n".join(problems[:40])


#: Scroll every ancestor of arguments[0] sideways: to the far right (arguments[1] true) or back to the left.
SIDEWAYS_JS = """
for (let node = arguments[0].parentElement; node; node = node.parentElement) {
  node.scrollLeft = arguments[1] ? node.scrollWidth : 0;
}
"""

#: Where an element sits against what shows it: the viewport, and every ancestor that clips or scrolls.
IN_VIEW_JS = """
const el = arguments[0];
const box = el.getBoundingClientRect();
const problems = [];
if (box.width === 0 || box.height === 0) { problems.push('not rendered'); }
if (box.left < 0 || box.right > window.innerWidth + 1) {
  problems.push('outside the viewport: ' + Math.round(box.left) + '..' + Math.round(box.right)
    + ' of ' + window.innerWidth);
}
const main = window.jupyterapp.shell.currentWidget.node.getBoundingClientRect();
if (box.left < main.left - 1 || box.right > main.right + 1) {
  problems.push('outside the notebook: ' + Math.round(box.left) + '..' + Math.round(box.right)
    + ' of ' + Math.round(main.left) + '..' + Math.round(main.right));
}
for (let node = el.parentElement; node; node = node.parentElement) {
  const style = getComputedStyle(node);
  if (style.overflowX === 'visible') { continue; }
  const clip = node.getBoundingClientRect();
  if (box.left < clip.left - 1 || box.right > clip.right + 1) {
    problems.push('clipped by ' + node.tagName.toLowerCase() + '.' + Array.from(node.classList).join('.')
      + ' (overflow-x ' + style.overflowX + ')');
    break;
  }
}
return problems;
"""


def test_learner_writes_the_answer_and_the_check_passes(
    jupyter_lab: Lab, browser: Any, shots: Path
) -> None:
    """The learner copy: Run All stops at the blank with the hint; typing the answer makes the check pass."""
    from selenium.webdriver.common.keys import Keys

    notebook = f"learner/{START_HERE}"
    state = run_all_cells(browser, jupyter_lab, notebook, shots, allow_errors=True)
    cells = state["cells"]
    answer = next(i for i, c in enumerate(cells) if "solution" in c.get("tags", []))
    check = next(i for i, c in enumerate(cells) if i > answer and "exercise" in c.get("tags", []))
    assert unexpected_errors(state) == [f"cell {check}: " + cells[check]["errors"][0]], unexpected_errors(state)
    assert cells[check]["errors"][0].startswith("NotAnswered"), cells[check]
    shown = cells[check]["text"]
    assert "Not answered yet" in shown and "Hint: Call demo_lines()" in shown, shown
    assert "Traceback" not in shown and "labkit/" not in shown, shown

    # The learner types the answer over the two blanks, then runs the answer cell and the checking cell.
    source = browser.execute_script(
        "return window.jupyterapp.shell.currentWidget.content.widgets[arguments[0]].model.sharedModel.getSource()",
        answer)
    lines = source.split("\n")
    first = next(n for n, line in enumerate(lines) if line.startswith("lines_a = ..."))
    browser.execute_script(
        "const nb = window.jupyterapp.shell.currentWidget.content;"
        "nb.activeCellIndex = arguments[0]; nb.mode = 'edit';"
        "const ed = nb.activeCell.editor; ed.focus();"
        "ed.setSelection({start: {line: arguments[1], column: 0}, end: {line: arguments[2], column: arguments[3]}});",
        answer, first, len(lines) - 1, len(lines[-1]))
    time.sleep(0.3)
    typing = browser.switch_to.active_element
    typing.send_keys("lines_a = demo_lines()", Keys.ENTER, "lines_b = demo_lines()")
    typed = browser.execute_script(
        "return window.jupyterapp.shell.currentWidget.content.widgets[arguments[0]].model.sharedModel.getSource()",
        answer)
    assert typed.endswith("lines_a = demo_lines()\nlines_b = demo_lines()"), typed
    typing.send_keys(Keys.SHIFT, Keys.ENTER)  # run the answer; the checking cell is next
    time.sleep(0.5)
    browser.switch_to.active_element.send_keys(Keys.SHIFT, Keys.ENTER)  # run the checking cell

    def checked() -> Any:
        state = _finished(browser)
        cell = state and state["cells"][check]
        return cell if cell and not cell["errors"] and "checked:" in cell["text"] else None

    try:
        cell = _wait("the checking cell to pass", 120, checked)
    finally:
        browser.save_screenshot(str(shots / f"{_shot_name(notebook)}-answered.png"))
    assert "checked: two runs, identical output" in cell["text"]


def test_transparency_log_shows_the_merkle_tree_and_a_widget(
    jupyter_lab: Lab, browser: Any, shots: Path
) -> None:
    run_all_cells(browser, jupyter_lab, TLOG, shots)
    pictures = _wait(
        "a rendered Merkle-tree SVG", 30, lambda: browser.execute_script(PICTURES_JS, PICTURE)
    )
    assert pictures >= 1, "the Merkle-tree picture is missing"
    assert _shoot_first(browser, PICTURE, shots / "02-merkle-tree.png"), "the Merkle-tree picture is missing"
    assert _wait(
        "a rendered widget", 60,
        lambda: _shoot_first(browser, WIDGET, shots / "02-widget.png"),
    ), "no widget rendered in the transparency-log notebook"
    assert_readable(browser, TLOG, shots)
    assert_hashes_copy_whole(browser, TLOG)


def test_merkle_explorer_keeps_its_sliders_in_view_at_32_leaves(
    jupyter_lab: Lab, browser: Any, shots: Path
) -> None:
    """A 32-leaf tree is wider than the screen: it scrolls in its own box, the sliders stay put."""
    from selenium.webdriver.common.by import By

    open_notebook(browser, jupyter_lab, TLOG)
    index = append_and_run(browser, "\n".join([
        "from labkit.display.widgets import merkle_explorer",
        "from labkit.tlog import merkle",
        'merkle_explorer([merkle.leaf_hash(b"%d" % i) for i in range(32)], size=32, leaf=20)',
    ]))
    cell = browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")[index]
    sliders = _wait("the explorer's sliders", 60, lambda: [
        el for el in cell.find_elements(By.CSS_SELECTOR, ".widget-slider") if el.size["width"] > 0])
    assert len(sliders) == 2
    _wait("the 32-leaf picture", 30, lambda: cell.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output svg"))
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", cell)
    # The learner looks at the right-hand leaves: whatever scrolls sideways around the picture scrolls.
    picture = cell.find_element(By.CSS_SELECTOR, ".jp-OutputArea-output svg")
    browser.execute_script(SIDEWAYS_JS, picture, True)
    time.sleep(0.3)
    browser.save_screenshot(str(shots / "02-explorer-32-leaves.png"))
    for slider in sliders:
        problems = browser.execute_script(IN_VIEW_JS, slider)
        assert not problems, f"a slider of the Merkle explorer is out of view at 32 leaves: {problems}"
    problems = browser.execute_script(IN_VIEW_JS, picture)
    assert not problems, f"the 32-leaf tree is not all in view beside its sliders: {problems}"
    output = cell.find_element(By.CSS_SELECTOR, ".jp-OutputArea-output")
    width = browser.execute_script("return [arguments[0].scrollWidth, arguments[0].clientWidth]", output)
    assert width[0] <= width[1] + 1, f"the explorer widens its output area: {width[0]}px in {width[1]}px"


def assert_hashes_copy_whole(driver: Any, notebook: str) -> None:
    """A shortened hash shows its start; hovering names it all, one click selects all of it for copying."""
    from selenium.webdriver.common.by import By

    spans = [el for el in driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output .labkit-hash")
             if el.size["width"] > 0]
    assert spans, f"{notebook}: no shortened hash to check"
    span = spans[0]
    full = span.get_attribute("title")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", span)
    shown = driver.execute_script("return [arguments[0].clientWidth, arguments[0].scrollWidth]", span)
    assert shown[0] < shown[1], f"{notebook}: the hash {full} is not shortened on screen"
    span.click()
    selected = driver.execute_script("return window.getSelection().toString()")
    assert selected == full and len(full) >= 32, f"{notebook}: a click selected {selected!r}, not {full!r}"


@pytest.mark.parametrize("notebook", SCREEN_NOTEBOOKS, ids=lambda n: n[:2])
def test_readable_at_1280x720_in_light_and_dark(jupyter_lab: Lab, browser: Any, shots: Path, notebook: str) -> None:
    run_all_cells(browser, jupyter_lab, notebook, shots)
    if notebook == MATRIX:
        from selenium.webdriver.common.by import By

        heads = _wait("the attack matrix", 30, lambda: [
            th for th in browser.find_elements(By.CSS_SELECTOR, "table.labkit-attack-matrix th")
            if th.text.strip().startswith("labkit")])
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", heads[0])
        browser.execute_script(SIDEWAYS_JS, heads[0], False)  # as the page opens: nothing scrolled sideways
        time.sleep(0.3)
        browser.save_screenshot(str(shots / "11-attack-matrix.png"))
        problems = browser.execute_script(IN_VIEW_JS, heads[0])
        assert not problems, f"the attack matrix's labkit column is not on screen: {problems}"
    assert_readable(browser, notebook, shots)
    if notebook in HASH_NOTEBOOKS:
        assert_hashes_copy_whole(browser, notebook)


#: A real bundle for the anatomy picture (vendored: tests/vendor/README.md).
ANATOMY_BUNDLE = ROOT / "tests/vendor/conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json"
#: Every picture of the course (issue 19 item 2), by the notebook that shows it.
COURSE_PICTURES = {
    "00 lab parts": pictures.lab_parts,
    "04 keyless flow": pictures.keyless_flow,
    "05 check groups": pictures.check_groups,
    "05 bundle anatomy": lambda: pictures.bundle_anatomy(json.loads(ANATOMY_BUNDLE.read_text(encoding="utf-8"))),
    "06 attestation nesting": pictures.attestation_nesting,
    "08 admission flow": pictures.admission_flow,
    "09 tag-swap race": pictures.tag_swap_race,
    "09 tag-swap race, fixed": lambda: pictures.tag_swap_race(fixed=True),
    "10 forgery": pictures.forgery,
}

#: Per picture: its drawn size, how many labels it has, the labels drawn (partly) outside its box, and the
#: pairs of labels drawn over each other.
PICTURE_JS = r"""
return [...document.querySelectorAll('section')].map(sec => {
  const svg = sec.querySelector('svg');
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll('text')];
  const outside = texts.filter(t => {
    const r = t.getBoundingClientRect();
    return r.width === 0 || r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
      || r.bottom > box.bottom + 1;
  }).map(t => t.textContent);
  const rects = texts.map(t => [t.textContent, t.getBoundingClientRect()]);
  const overlapping = [];
  rects.forEach(([a, r], i) => rects.slice(i + 1).forEach(([b, q]) => {
    const w = Math.min(r.right, q.right) - Math.max(r.left, q.left);
    const h = Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top);
    if (w > 1 && h > 1) overlapping.push(a + ' / ' + b);
  }));
  return {name: sec.dataset.name, width: box.width, height: box.height, labels: texts.length, outside, overlapping};
});
"""


def test_every_course_picture_renders_whole(browser: Any, tmp_path: Path, shots: Path) -> None:
    # Each picture drawn by Chromium at the width a 1280x720 JupyterLab gives an output (about 830 px):
    # it has a size, labels, no label cut off at its edges and no label over another.
    page = tmp_path / "pictures.html"
    sections = "".join(f'<section data-name="{name}" style="width:830px">{make().html}</section>'
                       for name, make in COURSE_PICTURES.items())
    page.write_text(f"<!doctype html><html><body>{sections}</body></html>", encoding="utf-8")
    browser.get(page.as_uri())
    drawn = browser.execute_script(PICTURE_JS)
    browser.save_screenshot(str(shots / "pictures.png"))
    assert [d["name"] for d in drawn] == list(COURSE_PICTURES)
    for d in drawn:
        assert d["width"] > 100 and d["height"] > 50, d
        assert d["labels"] >= 3, d
        assert d["outside"] == [], f"{d['name']}: labels cut off at the picture's edge: {d['outside']}"
        assert d["overlapping"] == [], f"{d['name']}: labels drawn over each other: {d['overlapping']}"
