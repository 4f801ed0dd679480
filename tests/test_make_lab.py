"""`make lab` opens the learner copy and makes no outside contact (issue 19, item 8)."""

from __future__ import annotations

import re
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "etc" / "jupyter_lab_config.py"


def lab_recipe() -> str:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^lab:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert match, "Makefile has no lab target"
    return match.group(1)


def test_the_lab_config_switches_off_news_update_checks_and_pypi() -> None:
    config = PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()
    assert config.LabApp.news_url is None
    assert config.LabApp.check_for_updates_class == "jupyterlab.NeverCheckForUpdate"
    assert config.LabApp.extension_manager == "readonly"


def test_make_lab_writes_and_opens_the_learner_copy_with_that_config() -> None:
    recipe = lab_recipe()
    assert "tools/learner.py" in recipe
    assert "cd notebooks/learner" in recipe and "00-start-here.ipynb" in recipe
    assert "--config=../../etc/jupyter_lab_config.py" in recipe


def test_binder_writes_the_learner_copy() -> None:
    assert "tools/learner.py" in (ROOT / "binder" / "postBuild").read_text(encoding="utf-8")


def test_pytest_never_collects_the_learner_copy() -> None:
    """nbval runs the solution copy; the learner copy's blanks would fail it (root conftest.py collect_ignore)."""
    text = (ROOT / "conftest.py").read_text(encoding="utf-8")
    assert re.search(r'^collect_ignore = \[.*"notebooks/learner".*\]$', text, re.MULTILINE)
