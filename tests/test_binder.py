"""The `binder/` folder works on mybinder: repo2docker accepts it and its pins run the notebooks.

mybinder builds with repo2docker. With a `binder/` folder repo2docker does not
install the repository by itself, so `binder/requirements.txt` installs
labkit (`.[lab]`) plus an exact pin for everything that pulls in; `runtime.txt`
picks the Python; `postBuild` and `start` start with `set -e` and `start`
ends with `exec "$@"` (repo2docker docs, "Configuration files").

Regenerate the pins from the development venv with::

    .venv/bin/python tests/test_binder.py --write
"""

from __future__ import annotations

import importlib.metadata as md
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
REQUIREMENTS = BINDER / "requirements.txt"

#: What the fresh environment needs on top of the binder pins to run nbval.
NOTEBOOK_TEST_TOOLS = ("pytest", "nbval")

HEADER = """\
# mybinder / repo2docker: install labkit itself with its lab extras, and pin everything it pulls in.
# Generated from the development venv by `.venv/bin/python tests/test_binder.py --write`; do not edit by hand.
# repo2docker runs this from the repository root, so `.` is labkit.
.[lab]
"""


def closure(root: str, extras: tuple[str, ...]) -> dict[str, str]:
    """Every installed distribution `root[extras]` needs, as {canonical name: version}."""
    seen: dict[str, frozenset[str]] = {}
    versions: dict[str, str] = {}
    todo: list[tuple[str, frozenset[str]]] = [(root, frozenset(extras))]
    while todo:
        name, wanted = todo.pop()
        dist = md.distribution(name)
        key = canonicalize_name(dist.metadata["Name"])
        done = seen.get(key, frozenset())
        if key in seen and wanted <= done:
            continue
        seen[key] = done | wanted
        versions[key] = dist.version
        for line in dist.requires or []:
            req = Requirement(line)
            envs = [{"extra": e} for e in sorted(wanted)] or [{"extra": ""}]
            if req.marker is None or any(req.marker.evaluate(env) for env in envs):
                todo.append((req.name, frozenset(req.extras)))
    versions.pop("labkit", None)
    return dict(sorted(versions.items()))


def expected_requirements() -> str:
    """The requirements.txt text the current venv implies."""
    pins = closure("labkit", ("lab",))
    return HEADER + "".join(f"{name}=={version}\n" for name, version in pins.items())


def read_pins(text: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("."):
            continue
        name, _, version = line.partition("==")
        pins[canonicalize_name(name)] = version
    return pins


# --------------------------------------------------------------------------- static checks


def test_binder_files_follow_repo2docker_rules() -> None:
    assert BINDER.is_dir()
    assert not (ROOT / ".binder").exists(), "repo2docker refuses both binder/ and .binder/"
    assert not (BINDER / "environment.yml").exists(), "environment.yml would make runtime.txt ignored"
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.(1[0-3])", runtime), runtime
    lines = [ln.strip() for ln in REQUIREMENTS.read_text().splitlines()]
    assert ".[lab]" in lines, "binder/requirements.txt must install labkit itself with its lab extras"
    for script in ("postBuild", "start"):
        path = BINDER / script
        text = path.read_text()
        assert text.startswith("#!/bin/bash\n"), f"{script}: needs a shebang"
        body = [ln for ln in text.splitlines()[1:] if ln.strip() and not ln.lstrip().startswith("#")]
        assert body[0].startswith("set -e"), f"{script}: the first command must be `set -e`"
        assert os.access(path, os.X_OK), f"{script} must be executable"
    start_body = [ln for ln in (BINDER / "start").read_text().splitlines() if ln.strip()]
    assert start_body[-1] == 'exec "$@"', "binder/start must end with exec \"$@\""


def test_every_pin_is_exact_and_covers_labkits_own_requirements() -> None:
    pins = read_pins(REQUIREMENTS.read_text())
    for name, version in pins.items():
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version), f"{name} is not pinned exactly"
    reqs = [Requirement(line) for line in md.requires("labkit") or []]
    direct = {
        canonicalize_name(req.name)
        for req in reqs
        if req.marker is None or req.marker.evaluate({"extra": "lab"})
    }
    missing = sorted(direct - set(pins))
    assert not missing, (
        f"binder/requirements.txt does not pin {missing}; "
        "regenerate with: .venv/bin/python tests/test_binder.py --write"
    )


def test_repo2docker_accepts_the_folder() -> None:
    """`repo2docker --no-build` reads binder/ and writes a Dockerfile without Docker."""
    exe = Path(sys.executable).parent / "jupyter-repo2docker"
    if not exe.exists():
        pytest.fail("jupyter-repo2docker is missing; install the test extra: pip install -e '.[test]'")
    proc = subprocess.run(
        [str(exe), "--no-build", "--debug", "--no-run", str(ROOT)],
        capture_output=True, text=True, timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    runtime = (BINDER / "runtime.txt").read_text().strip().removeprefix("python-")
    assert f"python={runtime}" in out, "repo2docker did not pick the runtime.txt Python"
    assert 'binder/requirements.txt' in out, "repo2docker did not pick binder/requirements.txt"
    assert "binder/postBuild" in out, "repo2docker did not pick binder/postBuild"
    assert "binder/start" in out, "repo2docker did not pick binder/start"
    assert "docker-registry" in out, "repo2docker did not pick binder/apt.txt (notebooks 03 and 09 need the registry)"
    assert "softhsm2" in out, "repo2docker did not pick softhsm2 from binder/apt.txt (notebook 14's token needs it)"


# --------------------------------------------------------------------------- the real install


def _copy_working_tree(dest: Path) -> None:
    """Copy what a clone would hold (tracked and new files, as they are now; nothing ignored): no venv, no ../shared."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for rel in filter(None, listing):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


@pytest.mark.slow
def test_fresh_venv_from_binder_requirements_passes_the_notebooks(tmp_path: Path) -> None:
    """What mybinder does, minus Docker: a new venv, `pip install -r binder/requirements.txt`
    from the repository root, then every notebook under nbval strict."""
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    if not notebooks:
        pytest.skip("no notebooks yet")
    repo = tmp_path / "repo"
    _copy_working_tree(repo)
    # No ../shared beside the copy: mybinder and a fresh clone do not have it either.
    env_dir = tmp_path / "venv"
    # The runtime.txt Python when this machine has it (as mybinder would), else the one running the tests.
    runtime = (BINDER / "runtime.txt").read_text().strip().removeprefix("python-")
    base = shutil.which(f"python{runtime}") or sys.executable
    subprocess.run([base, "-m", "venv", "--clear", str(env_dir)], check=True, capture_output=True, timeout=300)
    py = env_dir / "bin" / "python"
    tools = [f"{name}=={md.version(name)}" for name in NOTEBOOK_TEST_TOOLS]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    t0 = time.perf_counter()
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"],
        cwd=repo, capture_output=True, text=True, timeout=900, env=env,
    )
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-3000:]
    # "Pin everything": nothing the binder install pulled in may be unpinned.
    frozen = subprocess.run(
        [str(py), "-m", "pip", "list", "--format=freeze", "--exclude-editable"],
        cwd=tmp_path, capture_output=True, text=True, env=env, check=True,
    ).stdout
    pins = read_pins(REQUIREMENTS.read_text())
    unpinned = sorted(
        line for line in frozen.splitlines()
        if line and canonicalize_name(line.partition("==")[0]) not in pins
        and canonicalize_name(line.partition("==")[0]) not in {"labkit", "pip", "setuptools", "wheel"}
    )
    assert not unpinned, f"binder/requirements.txt leaves these unpinned: {unpinned}"
    # binder/postBuild runs as on mybinder, with the fresh environment first on PATH.
    post = subprocess.run(
        ["bash", "binder/postBuild"], cwd=repo, capture_output=True, text=True, timeout=300,
        env={**env, "PATH": f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"},
    )
    assert post.returncode == 0, post.stdout[-2000:] + post.stderr[-2000:]
    tools_install = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", *tools],
        cwd=repo, capture_output=True, text=True, timeout=600, env=env,
    )
    assert tools_install.returncode == 0, tools_install.stderr[-3000:]
    t_install = time.perf_counter() - t0
    # Nothing from the development tree may leak in: labkit must come from the fresh install.
    where = subprocess.run(
        [str(py), "-c", "import labkit; print(labkit.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, env=env, check=True,
    ).stdout.strip()
    assert str(env_dir) in where, where
    t1 = time.perf_counter()
    run = subprocess.run(
        [str(py), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", "notebooks/nbval_sanitize.cfg", "--nbval-cell-timeout=600",
         *[f"notebooks/{nb.name}" for nb in notebooks]],
        cwd=repo, capture_output=True, text=True, timeout=900, env=env,
    )
    t_run = time.perf_counter() - t1
    print(f"binder venv: install {t_install:.0f}s, notebooks {t_run:.0f}s")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        REQUIREMENTS.write_text(expected_requirements())
        print(f"wrote {REQUIREMENTS.relative_to(ROOT)} ({len(read_pins(REQUIREMENTS.read_text()))} pins)")
    else:
        sys.stdout.write(expected_requirements())
