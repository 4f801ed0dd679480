"""One recorder everywhere (issue 13 item 2): outside `labkit/checks.py` no module builds a step by hand.

Every domain declares its steps in a `labkit.checks.StepTable` and records them through `labkit.checks.Recorder`.
This walks labkit's source and fails on a hand-built step: a `Step(...)` call, or an ``x.add(...)`` /
``x.skip(...)`` call with the signature of the removed ``CheckResult.add`` / ``CheckResult.skip``
(id, title, spec, ... or ``detail=`` / ``reason=`` / ``expected=`` / ``actual=`` keywords).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import labkit

PACKAGE = Path(labkit.__file__).parent
_STEP_KEYWORDS = {"detail", "reason", "expected", "actual"}


def _hand_built_steps(source: str) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name == "Step":
            yield node.lineno, ast.unparse(func)
        elif isinstance(func, ast.Attribute) and name in ("add", "skip"):
            keywords = {k.arg for k in node.keywords}
            if len(node.args) >= 3 or (name == "add" and keywords & _STEP_KEYWORDS):
                yield node.lineno, ast.unparse(func)


def test_no_module_outside_checks_builds_steps_without_the_recorder() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {call}(...)"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "checks.py"
        for line, call in _hand_built_steps(path.read_text(encoding="utf-8"))
    ]
    assert not found, "record steps with labkit.checks.Recorder over a StepTable:\n" + "\n".join(found)


def test_the_walk_sees_a_hand_built_step() -> None:
    source = (
        "result.add('a', 'A', 'spec', True)\n"
        "result.add('a', ok=True, detail='x')\n"
        "result.skip('b', 'B', 'spec')\n"
        "result.steps.append(Step('c', 'C'))\n"
        "checks.Step('d', 'D')\n"
        "seen.add(name)\n"
        "run.skip('e', 'why')\n"
        "run.record('f', True, expected=1)\n"
    )
    assert sorted(line for line, _ in _hand_built_steps(source)) == [1, 2, 3, 4, 5]
