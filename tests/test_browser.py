"""A real browser: JupyterLab on a loopback port, headless Chromium, Run All, pictures and widgets.

This is what a learner does on the first morning of a workshop: open the
start-here notebook and the transparency-log notebook in JupyterLab and run
every cell. The test fails if a cell errors (other than one tagged
``raises-exception``), if the transparency-log notebook shows no rendered
Merkle-tree SVG, or if no widget renders. Screenshots are saved under the
test's temporary output directory (``tmp_path``), one per notebook.

Chromium and chromedriver come from the Debian packages `chromium` and
`chromium-driver` (`.ci/run` installs them); Selenium drives them. No browser
is downloaded, and Chromium may resolve nothing but loopback.
"""

from __future__ import annotations

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

from tests.conftest import require_tool, stop_process

ROOT = Path(__file__).resolve().parent.parent
START_HERE = "00-start-here.ipynb"
TLOG = "02-transparency-log.ipynb"

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
    "--window-size=1400,1800",
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
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
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


def run_all_cells(driver: Any, lab: Lab, notebook: str, shots: Path) -> dict[str, Any]:
    """Open `notebook` in JupyterLab, Run All, wait until every cell ran; return the cell summary."""
    if not (lab.root / "notebooks" / notebook).exists():
        pytest.fail(f"notebooks/{notebook} is missing")
    driver.get(f"{lab.url}/lab/tree/notebooks/{notebook}?reset&token={lab.token}")

    def ready() -> Any:
        state = driver.execute_script(CELLS_JS)
        return state if state and state["path"].endswith(notebook) and state["kernel"] == "idle" else None

    _wait(f"{notebook} to open with an idle kernel", 120, ready)
    driver.execute_script("return window.jupyterapp.commands.execute('notebook:run-all-cells')")

    def finished() -> Any:
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

    try:
        state = _wait(f"every cell of {notebook} to run", 300, finished, interval=1.0)
    finally:
        driver.save_screenshot(str(shots / f"{Path(notebook).stem}-end.png"))
    bad = [
        f"cell {i}: {err}" for i, c in enumerate(state["cells"]) if c["type"] == "code"
        for err in c["errors"] if "raises-exception" not in c["tags"]
    ]
    assert not bad, f"{notebook}: cells raised errors in the browser:\n" + "\n".join(bad)
    return dict(state)


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


def test_start_here_runs_in_the_browser(jupyter_lab: Lab, browser: Any, tmp_path: Path) -> None:
    run_all_cells(browser, jupyter_lab, START_HERE, tmp_path)
    assert (tmp_path / "00-start-here-end.png").stat().st_size > 0


def test_transparency_log_shows_the_merkle_tree_and_a_widget(
    jupyter_lab: Lab, browser: Any, tmp_path: Path
) -> None:
    run_all_cells(browser, jupyter_lab, TLOG, tmp_path)
    pictures = _wait(
        "a rendered Merkle-tree SVG", 30, lambda: browser.execute_script(PICTURES_JS, PICTURE)
    )
    assert pictures >= 1, "the Merkle-tree picture is missing"
    assert _shoot_first(browser, PICTURE, tmp_path / "02-merkle-tree.png"), "the Merkle-tree picture is missing"
    assert _wait(
        "a rendered widget", 60,
        lambda: _shoot_first(browser, WIDGET, tmp_path / "02-widget.png"),
    ), "no widget rendered in the transparency-log notebook"
    print(f"screenshots: {sorted(p.name for p in tmp_path.glob('*.png'))}")
