"""Load a script from `tools/` as a module, for the tests that gate on what it measures."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

TOOLS = Path(__file__).resolve().parent.parent / "tools"


def load_tool(name: str) -> ModuleType:
    """`tools/<name>.py` loaded as the module ``labkit_tools_<name>``."""
    spec = importlib.util.spec_from_file_location(f"labkit_tools_{name}", TOOLS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
