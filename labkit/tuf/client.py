"""Refresh an instance's trust over TUF with python-tuf's ngclient, into a labkit cache directory.

`refresh(url)` runs the TUF client workflow (TUF spec §5: root rotations, timestamp, snapshot, targets)
and returns the verified ``trusted_root.json`` and ``signing_config.v0.2.json``. The URL layout is
sigstore-python's: metadata at ``URL/``, targets at ``URL/targets/``. The cache lives in
``$LABKIT_TUF_CACHE`` (default ``~/.cache/labkit/tuf``), one directory per URL. Any failure
(expired, unsigned, rolled back, oversized, wrong hash) becomes one `TufError` that names the role and
the version; nothing that did not verify is returned.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from tuf.api import exceptions as tuf_errors
from tuf.ngclient import Updater, UpdaterConfig
from tuf.ngclient.fetcher import FetcherInterface
from tuf.ngclient.urllib3_fetcher import Urllib3Fetcher

from labkit._internal import jsonio
from labkit._internal.fsutil import read_bytes
from labkit._internal.net import is_loopback
from labkit.keys import make_private_dir
from labkit.tuf.errors import TufError
from labkit.tuf.targets import TARGET_NAMES

__all__ = ["Delivered", "cache_dir_for", "config", "refresh"]

#: The largest target accepted (a trusted root with many keys is a few tens of KiB).
MAX_TARGET_BYTES = 1024 * 1024


def config() -> UpdaterConfig:
    """Bounded downloads: at most 32 root rotations and small metadata files."""
    return UpdaterConfig(max_root_rotations=32, root_max_length=256 * 1024, timestamp_max_length=16 * 1024,
                         snapshot_max_length=256 * 1024, targets_max_length=1024 * 1024,
                         app_user_agent="labkit")


@dataclass(frozen=True)
class Delivered:
    """What a refresh verified: the targets' bytes and the version of each role it trusted."""

    url: str
    trusted_root: bytes
    signing_config: bytes
    versions: dict[str, int] = field(default_factory=dict)


def cache_dir_for(url: str, cache: str | os.PathLike[str] | None = None) -> Path:
    """The cache directory of `url` under `cache` (default ``$LABKIT_TUF_CACHE`` or ``~/.cache/labkit/tuf``)."""
    base = Path(cache or os.environ.get("LABKIT_TUF_CACHE") or Path.home() / ".cache" / "labkit" / "tuf")
    return base / quote(url.rstrip("/"), safe="")


class DirectoryFetcher(FetcherInterface):
    """Serve a repository from a local directory (a plain directory works as well as HTTP)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _fetch(self, url: str) -> Iterator[bytes]:
        path = Path(unquote(urlsplit(url).path)).resolve()
        if self.root.resolve() not in path.parents or not path.is_file():
            raise tuf_errors.DownloadHTTPError(f"{path.name} not found", 404)
        yield path.read_bytes()


class _RecordingFetcher(FetcherInterface):
    """Remember which file was fetched last, and the start of its body, to name the role and version on error."""

    def __init__(self, inner: FetcherInterface, trace: list[tuple[str, bool]] | None = None) -> None:
        self.inner = inner
        self.last_url = ""
        self.head = b""
        self.trace = trace

    def _fetch(self, url: str) -> Iterator[bytes]:
        previous = (self.last_url, self.head)
        self.last_url, self.head = url, b""
        try:
            for chunk in self.inner._fetch(url):
                if len(self.head) < 64 * 1024:
                    self.head += chunk[: 64 * 1024 - len(self.head)]
                yield chunk
            if self.trace is not None:
                self.trace.append((url, True))
        except tuf_errors.DownloadHTTPError:
            if self.trace is not None:
                self.trace.append((url, False))
            if url.endswith(".root.json"):  # a missing next root ends the walk; it is not what failed
                self.last_url, self.head = previous
            raise

    def what(self) -> str:
        """``timestamp version 7``, ``root version 3``, ``target trusted_root.json``: what failed."""
        name = unquote(urlsplit(self.last_url).path).rsplit("/", 1)[-1]
        if "/targets/" in urlsplit(self.last_url).path:
            return f"target {name.split('.', 1)[-1]}"
        parts = name.split(".")
        if len(parts) == 3 and parts[0].isdigit():
            return f"{parts[1]} version {parts[0]}"
        role = parts[0] if parts else "metadata"
        version = _version_in(self.head)
        return f"{role} version {version}" if version is not None else role


def _version_in(data: bytes) -> int | None:
    try:
        doc = jsonio.loads(data, what="TUF metadata", error=TufError)
    except TufError:
        return None
    signed = doc.get("signed") if isinstance(doc, dict) else None
    version = signed.get("version") if isinstance(signed, dict) else None
    return version if isinstance(version, int) else None


def _check_url(url: str) -> tuple[str, FetcherInterface]:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        host = parts.hostname or ""
        if not is_loopback(host):
            raise TufError(f"refusing to contact the TUF repository at {url}: labkit talks to loopback services only",
                           hint="Give the URL `labkit serve` printed on its `tuf:` line.")
        return url.rstrip("/"), Urllib3Fetcher(app_user_agent="labkit")
    directory = Path(parts.path if parts.scheme == "file" else url)
    if (directory / "repo" / "1.root.json").is_file():  # a `labkit tuf` directory: its published part
        directory = directory / "repo"
    if not directory.is_dir():
        raise TufError(f"{url} is neither an http(s) URL nor a TUF repository directory")
    return directory.resolve().as_uri(), DirectoryFetcher(directory)


def refresh(url: str, *, bootstrap_root: bytes | None = None,
            cache: str | os.PathLike[str] | None = None, trace: list[tuple[str, bool]] | None = None) -> Delivered:
    """Refresh `url`'s TUF metadata and return its verified targets (see the module docstring).

    With `trace`, every URL fetched is appended to it in order, with whether it was found.
    """
    base, inner = _check_url(url)
    fetcher = _RecordingFetcher(inner, trace)
    directory = cache_dir_for(base, cache)
    metadata_dir, target_dir = make_private_dir(directory / "metadata"), make_private_dir(directory / "targets")
    if bootstrap_root is None and not (metadata_dir / "root.json").exists():
        raise TufError(f"no trusted TUF root for {base} yet",
                       hint="Bootstrap once with the instance's root: labkit trust update --instance URL --root "
                       "root.json (get it from the instance operator: labkit tuf root -o root.json).")
    try:
        updater = Updater(str(metadata_dir), f"{base}/", str(target_dir), f"{base}/targets/", fetcher,
                          config(), bootstrap=bootstrap_root)
        updater.refresh()
        found = {name: _target(updater, name) for name in TARGET_NAMES}
    except (tuf_errors.RepositoryError, tuf_errors.DownloadError, ValueError) as exc:
        kind = type(exc).__name__
        what = fetcher.what() if fetcher.last_url else f"root version {_trusted_version(metadata_dir / 'root.json')}"
        raise TufError(f"TUF refresh of {base} failed at {what}: {kind}: {exc}", reason=f"tuf.{kind}",
                       details={"repository": base, "failed": what, "python-tuf": kind}) from None
    versions = {role: _trusted_version(metadata_dir / f"{role}.json") for role in
                ("root", "timestamp", "snapshot", "targets")}
    return Delivered(base, found["trusted_root.json"], found["signing_config.v0.2.json"], versions)


def _target(updater: Updater, name: str) -> bytes:
    info = updater.get_targetinfo(name)
    if info is None:
        raise tuf_errors.RepositoryError(f"the repository has no target {name}")
    if info.length > MAX_TARGET_BYTES:
        raise tuf_errors.DownloadLengthMismatchError(
            f"target {name} is {info.length} bytes, over the {MAX_TARGET_BYTES}-byte limit")
    path = updater.find_cached_target(info) or updater.download_target(info)
    return read_bytes(path, f"TUF target {name}")


def _trusted_version(path: Path) -> int:
    version = _version_in(read_bytes(path, "TUF metadata")) if path.exists() else None
    return version or 0
