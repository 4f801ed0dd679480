"""pytest hooks for the whole repository: notebook cells that need an optional system tool.

A notebook cell that needs a tool says so in its code: ``if needs("docker-registry"):``
(`labkit.systools.needs`). In JupyterLab the cell then prints what to install and
skips its work; under nbval (``make test``) the same cell is reported as skipped
with that reason, because its stored output is the tool's. With
``LABKIT_REQUIRE_SYSTEM_TOOLS=1`` (CI) a missing tool fails the cell instead.
"""

from __future__ import annotations

import os
import re

import pytest

from labkit import systools

#: The learner copy (tools/learner.py) holds unanswered exercises: nbval runs the solution copy only.
collect_ignore = ["notebooks/learner"]

_NEEDS = re.compile(r"""\bneeds\(\s*["']([A-Za-z0-9_.+-]+)["']""")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (or, in CI, fail) an nbval cell whose code needs a system tool that is missing."""
    cell = getattr(item, "cell", None)
    if cell is None or cell.get("cell_type") != "code":
        return
    for name in _NEEDS.findall(cell.get("source", "")):
        if name in systools.TOOLS and not systools.available(name):
            message = systools.missing_message(name) + "; install: " + systools.install_hint(name).replace("\n", "; ")
            if os.environ.get(systools.REQUIRE_ENV) == "1":
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
