"""The optional system tools labkit, its notebooks and its tests use: one declared table.

labkit itself is pure Python. A few lessons and tests also drive programs
installed outside Python: a real OCI registry, independent OCI clients, a
headless browser, a software HSM. Each is declared once here with every name
its binary ships under (Debian's ``docker-registry`` is Homebrew's
``registry``), any library it is useless without (SoftHSM's PKCS#11 module),
and what to install on Debian/Ubuntu, macOS and Windows (WSL).

    find("docker-registry")        # the binary's path, or None
    needs("docker-registry")       # notebooks: True, or print what to install and return False
    require("skopeo", "why")       # the path, or a `SystemToolMissing` naming the install command

``LABKIT_DISABLE_TOOLS=docker-registry,skopeo`` makes labkit behave as if
those tools were not installed (to try the no-tool path on a full machine).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from labkit.errors import InputError, LabkitError

__all__ = ["TOOLS", "find", "install_hint", "library", "missing_message", "needs", "require", "tool"]

#: Comma-separated tool names labkit treats as missing.
DISABLE_ENV = "LABKIT_DISABLE_TOOLS"
#: Set to 1 (CI) to turn a missing tool into a test failure instead of a skip.
REQUIRE_ENV = "LABKIT_REQUIRE_SYSTEM_TOOLS"
#: Where packages put binaries when PATH lacks them (a venv-only PATH, a GUI-started JupyterLab on macOS).
_FALLBACK_DIRS = ("/usr/bin", "/usr/local/bin", "/opt/homebrew/bin", "/usr/sbin")


class SystemToolMissing(LabkitError):
    """An optional system tool is not installed (or disabled with ``LABKIT_DISABLE_TOOLS``)."""

    hint = "Install the tool named above, or skip the part that needs it."


@dataclass(frozen=True)
class SystemTool:
    """One optional system tool: its binary names, what it enables, and how to install it."""

    name: str
    binaries: tuple[str, ...]
    enables: str
    debian: str
    macos: str
    windows: str
    #: Files of which one must exist for the tool to count as installed (a module the binary is useless without).
    libraries: tuple[str, ...] = ()

    def install_hint(self) -> str:
        """What to install, per platform, on one line each."""
        return (f"Debian/Ubuntu: {self.debian}\n"
                f"macOS: {self.macos}\n"
                f"Windows: {self.windows}")


def _wsl(packages: str) -> str:
    return f"in WSL (Ubuntu), sudo apt-get install {packages}, and run labkit inside WSL"


TOOLS: Mapping[str, SystemTool] = MappingProxyType({t.name: t for t in (
    SystemTool(
        "docker-registry", ("docker-registry", "registry"),
        "a real OCI registry on loopback: notebook 03 (push, sign, inspect), notebook 09 (tag swap), "
        "the registry, attack and workshop tests",
        "sudo apt-get install docker-registry",
        "brew install distribution (its binary is `registry`)",
        _wsl("docker-registry"),
    ),
    SystemTool(
        "skopeo", ("skopeo",),
        "interoperability test: an independent OCI client reads what labkit writes",
        "sudo apt-get install skopeo", "brew install skopeo", _wsl("skopeo"),
    ),
    SystemTool(
        "umoci", ("umoci",),
        "interoperability test: labkit reads the image layouts umoci writes",
        "sudo apt-get install umoci", "umoci runs on Linux only: use a Linux VM or container", _wsl("umoci"),
    ),
    SystemTool(
        "chromium", ("chromium", "chromium-browser"),
        "the browser test: JupyterLab driven in headless Chromium",
        "sudo apt-get install chromium", "brew install --cask chromium", _wsl("chromium"),
    ),
    SystemTool(
        "chromedriver", ("chromedriver",),
        "the browser test: Selenium drives Chromium through chromedriver",
        "sudo apt-get install chromium-driver", "brew install --cask chromedriver", _wsl("chromium-driver"),
    ),
    SystemTool(
        "softhsm2-util", ("softhsm2-util",),
        "a software HSM (SoftHSM v2): notebook 14's token cells and the PKCS#11 signing tests",
        "sudo apt-get install softhsm2", "brew install softhsm", _wsl("softhsm2"),
        # its PKCS#11 module, where Debian/Ubuntu, Fedora and Homebrew (Intel, Apple silicon) install it
        libraries=("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib64/pkcs11/libsofthsm2.so",
                   "/usr/local/lib/softhsm/libsofthsm2.so", "/opt/homebrew/lib/softhsm/libsofthsm2.so"),
    ),
    SystemTool(
        "openssl", ("openssl",),
        "an outside judge: `openssl ts` reads and verifies the timestamps labkit's TSA issues",
        "sudo apt-get install openssl", "brew install openssl", _wsl("openssl"),
    ),
    SystemTool(
        "nginx", ("nginx",),
        "the static tile-serving test: a plain web server over a Rekor v2 (tlog-tiles) log directory",
        "sudo apt-get install nginx-light", "brew install nginx", _wsl("nginx-light"),
    ),
    SystemTool(
        "node", ("node", "nodejs"),
        "sigstore-js (@sigstore/verify) judges labkit's bundles (tests/js; then npm ci --prefix tests/js)",
        "sudo apt-get install nodejs npm", "brew install node", _wsl("nodejs npm"),
    ),
    SystemTool(
        "configurable-http-proxy", ("configurable-http-proxy",),
        "the room server: JupyterHub's proxy (make room, tests/test_room_hub.py); "
        "labkit looks in tools/room/node_modules/.bin first",
        "sudo apt-get install nodejs npm, then npm ci --prefix tools/room",
        "brew install node, then npm ci --prefix tools/room",
        "JupyterHub does not run on Windows: " + _wsl("nodejs npm") + ", then npm ci --prefix tools/room",
    ),
)})

_told: set[str] = set()


def tool(name: str) -> SystemTool:
    """The declared tool `name` (an `InputError` for a name not in `TOOLS`)."""
    try:
        return TOOLS[name]
    except KeyError:
        raise InputError(f"{name!r} is not a declared system tool",
                         hint=f"Declared tools: {', '.join(TOOLS)} (labkit.systools.TOOLS).") from None


def _disabled() -> set[str]:
    return {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}


def library(name: str) -> str | None:
    """The first of tool `name`'s declared libraries that exists, or None (also when the tool is disabled)."""
    t = tool(name)
    if t.name in _disabled():
        return None
    return next((p for p in t.libraries if os.path.isfile(p)), None)


def _binary(t: SystemTool) -> str | None:
    for binary in t.binaries:
        found = shutil.which(binary)
        if found:
            return found
    for binary in t.binaries:
        for folder in _FALLBACK_DIRS:
            path = Path(folder) / binary
            if path.is_file() and os.access(path, os.X_OK):
                return str(path)
    return None


def find(name: str) -> str | None:
    """The path of tool `name` under any of its binary names, or None when it is missing, disabled, or lacks
    the library it needs (`SystemTool.libraries`)."""
    t = tool(name)
    if t.name in _disabled() or (t.libraries and library(name) is None):
        return None
    return _binary(t)


def available(name: str) -> bool:
    """Whether tool `name` is installed (and not disabled)."""
    return find(name) is not None


def install_hint(name: str) -> str:
    """What to install for tool `name`, per platform."""
    return tool(name).install_hint()


def missing_message(name: str, why: str = "") -> str:
    """One line saying that `name` is missing and what it is needed for."""
    t = tool(name)
    names = " or ".join(f"`{b}`" for b in t.binaries)
    if t.name in _disabled():
        state = "is disabled by " + DISABLE_ENV
    elif _binary(t) is not None and t.libraries and library(name) is None:
        state = f"is not installed completely (no {' or '.join(t.libraries)} found)"
    else:
        state = f"is not installed (no {names} found)"
    return f"{t.name} {state}; it is needed for {why or t.enables}"


def require(name: str, why: str = "") -> str:
    """The path of tool `name`, or a `SystemToolMissing` saying what to install."""
    path = find(name)
    if path is None:
        raise SystemToolMissing(
            missing_message(name, why), hint="Install it: " + install_hint(name).replace("\n", "; ")
        )
    return path


def needs(name: str, why: str = "") -> bool:
    """For a notebook cell: True when `name` is installed; else print what to install and return False.

    The install instructions are printed once per process; later cells print one line.
    """
    if available(name):
        return True
    if name in _told:
        print(f"(skipped: this cell needs {name}; see the install note above)")
    else:
        _told.add(name)
        print(f"Skipped: {missing_message(name, why)}.\nInstall it, then run the notebook again from the top:\n"
              + install_hint(name))
    return False
