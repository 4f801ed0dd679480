"""A distribution-spec (OCI registry) client on `requests`, for loopback registries.

`RegistryClient` speaks the OCI distribution-spec v1.1 HTTP API: ping,
blob upload (monolithic POST+PUT, or chunked PATCHes that always follow
the *latest* ``Location``), cross-repository mount, manifest put/get by tag
and digest with OCI ``Accept`` headers, tag listing, deletes, and referrers
(the API where the registry has it, else the referrers tag schema: an image
index under tag ``sha256-<hex>``).

Trust nothing the registry says about content: every digest is computed by
the client from the bytes it sent or received; a ``Docker-Content-Digest``
header that disagrees is an error (`RegistryError`), never an answer.

`RegistryRepository` binds a client to one repository and offers the same
store interface as `labkit.oci.layout.OCILayout`.

Registries have no compare-and-swap on tags, so read-modify-write of a tag
(cosign's ``.sig``, the referrers fallback index) loses concurrent updates.
`RegistryRepository.converge` fixes that without a lock: each writer first
pushes its item under its own *claim tag* (``<tag>.claim-<id>``), then
loops: re-read the tag and every claim, write the union, re-read, until the
tag holds every claim it can see. The last writer's final check sees every
claim, so nothing is lost.

**Bounded reads.** Every request has an overall deadline (`DEFAULT_DEADLINE`
seconds, or ``LABKIT_REGISTRY_DEADLINE``, or the client's `deadline`): the
answer's headers and a document body must arrive within it, however slowly
the registry trickles bytes. Manifests, indexes and every JSON answer are
read with a byte cap (`MAX_DOCUMENT_BYTES`, the distribution spec's 4 MiB
manifest guidance) and never read whole first; blobs stream, size-checked
against their descriptor. A registry over a limit gets a `RegistryError`.

labkit contacts only loopback addresses (127.0.0.1, localhost, ::1).
"""

from __future__ import annotations

import os
import random
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any

import requests
import urllib3.exceptions as urllib3_errors

from labkit._internal.jsonio import MAX_DOCUMENT_BYTES, JSONValue, loads
from labkit.errors import DigestError, LabkitError, RegistryError
from labkit.oci.descriptor import (
    MANIFEST_MEDIA_TYPES,
    MT_INDEX,
    MT_MANIFEST,
    Descriptor,
    ImageIndex,
    ManifestError,
    NotFoundError,
    parse_any_manifest,
    parse_index,
)
from labkit.oci.digest import Digest, DigestWriter
from labkit.oci.reference import is_loopback_registry, validate_repository, validate_tag

__all__ = ["RegistryClient", "RegistryRepository"]

#: Always offer every manifest type: distribution 2.8 answers 404 to a GET whose Accept lacks OCI types.
_ACCEPT_MANIFESTS = ", ".join(MANIFEST_MEDIA_TYPES)
CHUNK_SIZE = 8 << 20
#: Seconds one registry request may take in all (connect, headers, body); ``LABKIT_REGISTRY_DEADLINE`` overrides.
DEFAULT_DEADLINE = 30.0
#: An error answer's body is read only this far (its message is all labkit shows).
_ERROR_BODY_BYTES = 64 << 10
_READ_SIZE = 64 << 10


def _default_deadline() -> float:
    raw = os.environ.get("LABKIT_REGISTRY_DEADLINE")
    if raw is None:
        return DEFAULT_DEADLINE
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86400:
        raise RegistryError(f"LABKIT_REGISTRY_DEADLINE must be a number of seconds in (0, 86400], got {raw!r}")
    return value


class _Deadline:
    """The wall-clock end of one request."""

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = seconds
        self.what = what
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def error(self) -> RegistryError:
        return RegistryError(
            f"{self.what}: the registry did not answer within the {self.seconds:g}-second deadline",
            hint="The registry is stalled or sends very slowly; set LABKIT_REGISTRY_DEADLINE to allow more time.",
        )

    def check(self) -> None:
        if self.remaining() <= 0:
            raise self.error()


def _chunks(resp: requests.Response, deadline: _Deadline) -> Iterator[bytes]:
    """The body as it arrives (``read1``: a trickle cannot hold one read open), within the deadline."""
    while True:
        deadline.check()
        chunk = resp.raw.read1(_READ_SIZE)
        if not chunk:
            return
        yield chunk


def _read_capped(resp: requests.Response, cap: int, what: str, deadline: _Deadline, *, truncate: bool = False) -> bytes:
    """At most `cap` bytes of the body; more is a `RegistryError` (or, with `truncate`, cut off)."""
    declared = resp.headers.get("Content-Length", "")
    if not truncate and declared.isdigit() and int(declared) > cap:
        raise _too_large(what, cap, f"declares {declared} bytes")
    buf = bytearray()
    for chunk in _chunks(resp, deadline):
        buf += chunk
        if len(buf) > cap:
            if truncate:
                return bytes(buf[:cap])
            raise _too_large(what, cap, f"sent more than {cap} bytes")
    return bytes(buf)


def _too_large(what: str, cap: int, detail: str) -> RegistryError:
    return RegistryError(
        f"{what}: the registry's answer is over the {cap}-byte limit ({detail})",
        hint="Manifests and indexes are capped at 4 MiB (distribution-spec guidance); the registry is lying or broken.",
        details={"limit": cap},
    )


def _json_body(resp: requests.Response, what: str) -> JSONValue:
    """The (already capped) body parsed by the bounded JSON reader."""
    return loads(resp.content, what=what, error=RegistryError)


def _error_text(resp: requests.Response) -> str:
    """The registry's error code and message (distribution-spec §Error codes), or the status."""
    try:
        doc = _json_body(resp, "error answer")
    except LabkitError:
        return f"HTTP {resp.status_code}"
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        e = errors[0]
        return f"{str(e.get('code', '?'))[:100]}: {str(e.get('message', ''))[:300]}"
    return f"HTTP {resp.status_code}"


class RegistryClient:
    """A client for one registry at `base_url` (``http://127.0.0.1:PORT``)."""

    def __init__(self, base_url: str, *, session: requests.Session | None = None, timeout: float = 60.0,
                 deadline: float | None = None, max_document_bytes: int = MAX_DOCUMENT_BYTES) -> None:
        parsed = urllib.parse.urlsplit(base_url if "://" in base_url else f"http://{base_url}")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise RegistryError(f"not a registry URL: {base_url!r}")
        if not is_loopback_registry(parsed.netloc):
            raise RegistryError(
                f"labkit talks only to registries on this machine, not {parsed.netloc!r}",
                hint="Start a local registry (docker-registry) on 127.0.0.1 and use its address.",
            )
        self.host = parsed.netloc
        self.base_url = f"{parsed.scheme}://{parsed.netloc}"
        self.session = session or requests.Session()
        self.timeout = timeout
        #: Overall seconds per request (headers and body); see the module docstring.
        self.deadline = _default_deadline() if deadline is None else deadline
        #: Byte cap on manifests, indexes and JSON answers.
        self.max_document_bytes = max_document_bytes

    def __repr__(self) -> str:
        return f"RegistryClient({self.base_url!r})"

    def repository(self, name: str) -> RegistryRepository:
        """A store bound to repository `name`."""
        return RegistryRepository(self, name)

    # -- plumbing -------------------------------------------------------------

    def _url(self, path: str) -> str:
        return self.base_url + path

    def _request(self, method: str, url: str, *, ok: Iterable[int], what: str, stream: bool = False,
                 max_body: int | None = None, data: bytes | Iterator[bytes] | None = None,
                 headers: Mapping[str, str] | None = None) -> requests.Response:
        """One request within the deadline; the body is read (capped) unless `stream`, then it is the caller's.

        A streamed response comes with ``resp.labkit_deadline`` (the same
        deadline) for `_chunks`.
        """
        if not url.startswith(self.base_url + "/"):
            # A Location header pointing elsewhere must not make labkit leave this machine.
            raise RegistryError(f"registry redirected {what} to another host: {url[:120]}")
        deadline = _Deadline(self.deadline, what)
        wait = max(min(self.timeout, self.deadline), 0.001)
        ok_set = set(ok)
        cap = self.max_document_bytes if max_body is None else max_body

        def send() -> requests.Response:
            resp = self.session.request(method, url, stream=True, data=data, headers=headers, timeout=(wait, wait),
                                        allow_redirects=False)
            if stream and resp.status_code in ok_set:
                return resp
            try:
                if resp.status_code in ok_set:
                    body = _read_capped(resp, cap, what, deadline)
                else:
                    body = _read_capped(resp, _ERROR_BODY_BYTES, what, deadline, truncate=True)
            except BaseException:
                resp.close()
                raise
            resp._content = body
            if len(body) < _ERROR_BODY_BYTES or resp.status_code in ok_set:
                resp.raw.release_conn()  # read to the end: the connection goes back to the pool
            else:
                resp.close()  # an error body cut short: unread bytes, so the connection is dropped
            return resp

        resp = self._within(deadline, send)
        if resp.status_code not in ok_set:
            if resp.status_code == 404:
                raise NotFoundError(f"{what}: not found ({_error_text(resp)})", details={"url": url})
            raise RegistryError(
                f"{what}: registry answered {resp.status_code} ({_error_text(resp)})",
                details={"url": url, "status": resp.status_code},
            )
        return resp

    def _within(self, deadline: _Deadline, send: Callable[[], requests.Response]) -> requests.Response:
        """Run `send` in a worker thread and give up at the deadline (slow headers cannot hold labkit)."""
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["resp"] = send()
            except BaseException as exc:  # handed to the caller below
                box["exc"] = exc

        worker = threading.Thread(target=work, name="labkit-registry-request", daemon=True)
        worker.start()
        worker.join(max(deadline.remaining(), 0.0))
        if worker.is_alive():
            # The worker stops at its next read (its socket timeout and deadline checks are bounded too).
            raise deadline.error()
        exc = box.get("exc")
        if isinstance(exc, LabkitError):
            raise exc
        if isinstance(exc, requests.RequestException):
            if deadline.remaining() <= 0:
                raise deadline.error() from None
            raise RegistryError(
                f"cannot reach the registry at {self.base_url} ({deadline.what}): {type(exc).__name__}"
            ) from None
        if exc is not None:
            raise exc
        resp: requests.Response = box["resp"]
        resp.labkit_deadline = deadline  # type: ignore[attr-defined]
        return resp

    def _location(self, resp: requests.Response, what: str) -> str:
        loc = resp.headers.get("Location")
        if not loc:
            raise RegistryError(f"{what}: registry gave no Location")
        return urllib.parse.urljoin(self.base_url + "/", loc)

    @staticmethod
    def _check_header_digest(resp: requests.Response, computed: Digest, what: str) -> None:
        header = resp.headers.get("Docker-Content-Digest")
        if header is not None and header != str(computed):
            raise RegistryError(
                f"{what}: Docker-Content-Digest header disagrees with the content",
                hint="The registry lies about digests; labkit trusts only the digest it computes.",
                details={"header": header[:100], "computed": str(computed)},
            )

    # -- API ------------------------------------------------------------------

    def ping(self) -> bool:
        """``GET /v2/``: True when the registry speaks the distribution API."""
        resp = self._request("GET", self._url("/v2/"), ok=(200, 401), what="ping")
        return resp.status_code == 200

    def catalog(self) -> list[str]:
        """Repository names (``GET /v2/_catalog``), sorted."""
        resp = self._request("GET", self._url("/v2/_catalog"), ok=(200,), what="catalog")
        doc = _json_body(resp, "catalog")
        repos = doc.get("repositories") if isinstance(doc, dict) else None
        return sorted(str(r) for r in repos) if isinstance(repos, list) else []

    def blob_exists(self, repo: str, digest: Digest | str) -> bool:
        """``HEAD /v2/<repo>/blobs/<digest>``."""
        d = Digest.parse(str(digest))
        resp = self._request(
            "HEAD", self._url(f"/v2/{validate_repository(repo)}/blobs/{d}"), ok=(200, 404), what=f"blob {d.short()}"
        )
        return resp.status_code == 200

    def get_blob(self, repo: str, digest: Digest | str, size: int | None = None) -> bytes:
        """Fetch a blob and verify its size and digest."""
        return b"".join(self.open_blob(repo, digest, size))

    def open_blob(self, repo: str, digest: Digest | str, size: int | None = None) -> Iterator[bytes]:
        """Stream a blob; the digest is checked before the last chunk is released."""
        d = Digest.parse(str(digest))
        url = self._url(f"/v2/{validate_repository(repo)}/blobs/{d}")
        # No redirects: a registry may not send labkit to another host (loopback only).
        resp = self._request("GET", url, ok=(200,), what=f"blob {d.short()}", stream=True)
        h = d.new_hash()
        n = 0
        pending: bytes | None = None
        try:
            for chunk in _chunks(resp, resp.labkit_deadline):  # type: ignore[attr-defined]
                if not chunk:
                    continue
                h.update(chunk)
                n += len(chunk)
                if size is not None and n > size:
                    raise DigestError(f"blob {d.short()} is longer than its descriptor's size {size}")
                if pending is not None:
                    yield pending
                pending = chunk
        except (requests.RequestException, urllib3_errors.HTTPError, OSError) as exc:
            raise RegistryError(f"blob {d.short()}: transfer failed ({type(exc).__name__})") from None
        finally:
            resp.close()
        if size is not None and n != size:
            raise DigestError(f"blob {d.short()} has {n} bytes, its descriptor says {size}")
        if h.hexdigest() != d.hex:
            raise DigestError(
                f"blob {d.short()} from the registry does not match its digest",
                details={"expected": str(d), "actual": f"{d.algorithm}:{h.hexdigest()}"},
            )
        if pending is not None:
            yield pending

    def push_blob(self, repo: str, data: bytes, media_type: str = "application/octet-stream") -> Descriptor:
        """Monolithic upload (``POST`` then ``PUT ?digest=``); skipped when the blob exists."""
        desc = Descriptor.for_bytes(data, media_type)
        for attempt in range(3):
            try:
                if self.blob_exists(repo, desc.digest):
                    return desc
                resp = self._request(
                    "POST", self._url(f"/v2/{validate_repository(repo)}/blobs/uploads/"), ok=(202,),
                    what="start upload",
                )
                loc = self._location(resp, "start upload")
                resp = self._request(
                    "PUT",
                    _add_query(loc, digest=str(desc.digest)),
                    ok=(201,),
                    what=f"upload blob {desc.digest.short()}",
                    data=data,
                    headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(data))},
                )
            except RegistryError as exc:
                # Another client committing the same blob at the same moment can make this upload
                # fail (5xx); if the blob is there now, it is there (content-addressed).
                status = exc.details.get("status", 500)
                if (isinstance(status, int) and status < 500) or attempt == 2:
                    raise
                time.sleep(0.05 * (attempt + 1))
                continue
            self._check_header_digest(resp, desc.digest, f"upload blob {desc.digest.short()}")
            return desc
        return desc

    def push_blob_chunked(
        self,
        repo: str,
        source: IO[bytes] | Iterable[bytes],
        media_type: str = "application/octet-stream",
        *,
        chunk_size: int = CHUNK_SIZE,
    ) -> Descriptor:
        """Chunked upload: one ``PATCH`` per chunk with ``Content-Range``, then ``PUT ?digest=``.

        The digest is computed while streaming; memory stays bounded by
        `chunk_size`. Each PATCH answers with a new Location, which the next
        request must use (distribution-spec §Pushing a blob in chunks).
        """
        validate_repository(repo)
        resp = self._request("POST", self._url(f"/v2/{repo}/blobs/uploads/"), ok=(202,), what="start upload")
        loc = self._location(resp, "start upload")
        writer = DigestWriter()
        for chunk in _rechunk(source, chunk_size):
            start = writer.size
            writer.update(chunk)
            resp = self._request(
                "PATCH",
                loc,
                ok=(202,),
                what="upload chunk",
                data=chunk,
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(len(chunk)),
                    "Content-Range": f"{start}-{writer.size - 1}",
                },
            )
            loc = self._location(resp, "upload chunk")
        digest = writer.digest()
        resp = self._request(
            "PUT", _add_query(loc, digest=str(digest)), ok=(201,), what=f"finish upload {digest.short()}",
            headers={"Content-Length": "0"},
        )
        self._check_header_digest(resp, digest, f"finish upload {digest.short()}")
        return Descriptor(media_type, digest, writer.size)

    def push_blob_streamed(
        self, repo: str, source: IO[bytes] | Iterable[bytes], media_type: str = "application/octet-stream"
    ) -> Descriptor:
        """Stream a blob in one ``PATCH`` (chunked transfer encoding), then ``PUT ?digest=``.

        Bounded memory like `push_blob_chunked`, but one request: the
        fastest way to move a large layer. The digest is computed on the fly.
        """
        validate_repository(repo)
        resp = self._request("POST", self._url(f"/v2/{repo}/blobs/uploads/"), ok=(202,), what="start upload")
        loc = self._location(resp, "start upload")
        writer = DigestWriter()

        def body() -> Iterator[bytes]:
            for chunk in _rechunk(source, CHUNK_SIZE):
                writer.update(chunk)
                yield chunk

        resp = self._request("PATCH", loc, ok=(202,), what="upload stream", data=body(),
                             headers={"Content-Type": "application/octet-stream"})
        loc = self._location(resp, "upload stream")
        digest = writer.digest()
        resp = self._request(
            "PUT", _add_query(loc, digest=str(digest)), ok=(201,), what=f"finish upload {digest.short()}",
            headers={"Content-Length": "0"},
        )
        self._check_header_digest(resp, digest, f"finish upload {digest.short()}")
        return Descriptor(media_type, digest, writer.size)

    def mount_blob(self, repo: str, digest: Digest | str, from_repo: str) -> bool:
        """Cross-repository mount; True if mounted, False if the registry started an upload instead."""
        d = Digest.parse(str(digest))
        url = self._url(
            f"/v2/{validate_repository(repo)}/blobs/uploads/?"
            + urllib.parse.urlencode({"mount": str(d), "from": validate_repository(from_repo)})
        )
        resp = self._request("POST", url, ok=(201, 202), what=f"mount {d.short()}")
        if resp.status_code == 202:
            # Not mounted: cancel the upload session the registry opened instead.
            loc = self._location(resp, "mount")
            self._request("DELETE", loc, ok=(204, 404), what="cancel upload")
            return False
        return True

    def get_manifest(self, repo: str, ref: str | Digest) -> tuple[bytes, Descriptor]:
        """Fetch a manifest by tag or digest; the returned digest is computed from the body."""
        ref_s = str(ref)
        by_digest = ":" in ref_s
        expected = Digest.parse(ref_s) if by_digest else None
        if not by_digest:
            validate_tag(ref_s)
        what = f"manifest {repo}:{ref_s}" if not by_digest else f"manifest {repo}@{ref_s}"
        resp = self._request(
            "GET",
            self._url(f"/v2/{validate_repository(repo)}/manifests/{ref_s}"),
            ok=(200,),
            what=what,
            headers={"Accept": _ACCEPT_MANIFESTS},
        )
        data = resp.content  # capped at max_document_bytes by _request
        computed = Digest.of(data, expected.algorithm if expected else "sha256")
        if expected is not None and computed != expected:
            raise DigestError(
                f"{what}: the registry returned a manifest that does not match the digest asked for",
                details={"expected": str(expected), "actual": str(computed)},
            )
        self._check_header_digest(resp, computed, what)
        content_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
        parsed = parse_any_manifest(data, what=what)
        media_type = content_type if content_type in MANIFEST_MEDIA_TYPES else (
            parsed.media_type or (MT_INDEX if isinstance(parsed, ImageIndex) else MT_MANIFEST)
        )
        return data, Descriptor(media_type, computed, len(data), {}, parsed.artifact_type)

    def put_manifest(self, repo: str, ref: str | Digest, data: bytes, media_type: str) -> Descriptor:
        """Push a manifest under a tag or its digest; check the registry's answer against our digest."""
        parse_any_manifest(data)
        ref_s = str(ref)
        computed = Digest.of(data)
        if ":" in ref_s:
            if Digest.parse(ref_s) != computed:
                raise DigestError("manifest bytes do not match the digest they are pushed under")
        else:
            validate_tag(ref_s)
        what = f"push manifest {repo}:{ref_s}"
        for attempt in range(3):
            try:
                resp = self._request(
                    "PUT",
                    self._url(f"/v2/{validate_repository(repo)}/manifests/{ref_s}"),
                    ok=(201,),
                    what=what,
                    data=data,
                    headers={"Content-Type": media_type},
                )
                break
            except RegistryError as exc:
                # While another client commits a blob this manifest references, distribution can
                # answer 5xx or DIGEST_INVALID for a moment. Our digest is computed locally, so
                # retry a little before believing it.
                status = exc.details.get("status", 500)
                transient = not isinstance(status, int) or status >= 500 or "DIGEST_INVALID" in exc.message
                if not transient or attempt == 2:
                    raise
                time.sleep(0.1 * (attempt + 1))
        self._check_header_digest(resp, computed, what)
        desc = Descriptor(media_type, computed, len(data))
        return desc

    def list_tags(self, repo: str) -> list[str]:
        """Tags of `repo`, sorted (distribution 2.8 returns them unsorted and ignores ``n``)."""
        try:
            resp = self._request(
                "GET", self._url(f"/v2/{validate_repository(repo)}/tags/list"), ok=(200,), what=f"tags of {repo}"
            )
        except NotFoundError:
            return []
        doc = _json_body(resp, f"tags of {repo}")
        tags = doc.get("tags") if isinstance(doc, dict) else None
        if tags is not None and not isinstance(tags, list):
            raise RegistryError(f"tags of {repo}: 'tags' is not a list")
        return sorted(str(t) for t in tags or [])

    def delete_manifest(self, repo: str, digest: Digest | str) -> None:
        """Delete a manifest by digest (every tag pointing at it goes with it)."""
        d = Digest.parse(str(digest))
        self._request(
            "DELETE", self._url(f"/v2/{validate_repository(repo)}/manifests/{d}"), ok=(202,), what=f"delete {d.short()}"
        )

    def delete_blob(self, repo: str, digest: Digest | str) -> None:
        """Delete a blob."""
        d = Digest.parse(str(digest))
        self._request(
            "DELETE",
            self._url(f"/v2/{validate_repository(repo)}/blobs/{d}"),
            ok=(202,),
            what=f"delete blob {d.short()}",
        )

    def referrers_api(
        self, repo: str, digest: Digest | str, artifact_type: str | None = None
    ) -> list[Descriptor] | None:
        """``GET /v2/<repo>/referrers/<digest>``; None when the registry lacks the API."""
        d = Digest.parse(str(digest))
        url = self._url(f"/v2/{validate_repository(repo)}/referrers/{d}")
        if artifact_type:
            url += "?" + urllib.parse.urlencode({"artifactType": artifact_type})
        try:
            resp = self._request("GET", url, ok=(200,), what="referrers", headers={"Accept": MT_INDEX})
        except NotFoundError:
            return None
        if resp.headers.get("Content-Type", "").split(";")[0].strip() != MT_INDEX:
            return None
        index = parse_index(resp.content, what="referrers response")
        out = list(index.manifests)
        if artifact_type:
            out = [d2 for d2 in out if d2.artifact_type == artifact_type]
        return sorted(out, key=lambda x: x.digest)


class RegistryRepository:
    """One repository of a registry, with the store interface of `OCILayout`."""

    def __init__(self, client: RegistryClient, repository: str) -> None:
        self.client = client
        self.repository = validate_repository(repository)

    @property
    def name(self) -> str:
        """``host:port/repository``."""
        return f"{self.client.host}/{self.repository}"

    def __repr__(self) -> str:
        return f"RegistryRepository({self.name!r})"

    def has_blob(self, digest: Digest | str) -> bool:
        """True when the registry has the blob."""
        return self.client.blob_exists(self.repository, digest)

    def put_blob(self, data: bytes, media_type: str = "application/octet-stream") -> Descriptor:
        """Upload a blob (monolithic)."""
        return self.client.push_blob(self.repository, data, media_type)

    def put_blob_stream(
        self, source: IO[bytes] | Iterable[bytes], media_type: str = "application/octet-stream"
    ) -> Descriptor:
        """Upload a blob from a stream with bounded memory (one streamed request)."""
        return self.client.push_blob_streamed(self.repository, source, media_type)

    def get_blob(self, digest: Digest | str, size: int | None = None) -> bytes:
        """Fetch and verify a blob."""
        return self.client.get_blob(self.repository, digest, size)

    def open_blob(self, digest: Digest | str, size: int | None = None) -> Iterator[bytes]:
        """Stream and verify a blob."""
        return self.client.open_blob(self.repository, digest, size)

    def resolve(self, ref: str | Digest | None) -> Descriptor:
        """The descriptor of a tag or digest, digest computed from the manifest bytes."""
        return self.get_manifest(ref)[1]

    def get_manifest(self, ref: str | Digest | None) -> tuple[bytes, Descriptor]:
        """Manifest bytes and descriptor by tag or digest (None means ``latest``)."""
        return self.client.get_manifest(self.repository, ref if ref is not None else "latest")

    def put_manifest(self, data: bytes, media_type: str | None = None, *, tag: str | None = None) -> Descriptor:
        """Push a manifest by tag, or by digest when `tag` is None.

        No ``annotations``/``require_blobs`` as `OCILayout.put_manifest` has: a registry keeps no
        annotations on tags, and it refuses a manifest whose blobs it lacks itself (``MANIFEST_BLOB_UNKNOWN``).
        """
        parsed = parse_any_manifest(data)
        mt = media_type or parsed.media_type
        if mt is None:
            raise ManifestError("manifest has no mediaType; pass media_type")
        ref: str | Digest = tag if tag is not None else Digest.of(data)
        desc = self.client.put_manifest(self.repository, ref, data, mt)
        return Descriptor(desc.media_type, desc.digest, desc.size, {}, parsed.artifact_type)

    def tag(self, tag: str, descriptor: Descriptor) -> Descriptor:
        """Point `tag` at an existing manifest (re-PUT its bytes under the tag; a registry keeps no tag annotations)."""
        data, desc = self.get_manifest(descriptor.digest)
        return self.client.put_manifest(self.repository, tag, data, desc.media_type)

    def tags(self) -> list[str]:
        """Tags, sorted."""
        return self.client.list_tags(self.repository)

    def referrers(self, digest: Digest | str, artifact_type: str | None = None) -> list[Descriptor]:
        """Referrers of `digest`: the referrers API, or the ``sha256-<hex>`` tag-schema index."""
        d = Digest.parse(str(digest))
        via_api = self.client.referrers_api(self.repository, d, artifact_type)
        if via_api is not None:
            return via_api
        try:
            data, _ = self.get_manifest(d.tag_form)
        except NotFoundError:
            return []
        index = parse_index(data, what=f"referrers index {d.tag_form}")
        out = [m for m in index.manifests if artifact_type is None or m.artifact_type == artifact_type]
        return sorted(out, key=lambda x: x.digest)

    def put_referrer(self, data: bytes, media_type: str | None = None) -> Descriptor:
        """Push a manifest with a `subject` and make it discoverable as a referrer.

        Pushed by digest; if the registry does not answer with ``OCI-Subject``
        (it has no referrers API), the client maintains the referrers tag
        schema index itself (distribution-spec v1.1 §Pushing Manifests with
        Subject), concurrency-safe via `converge`.
        """
        parsed = parse_any_manifest(data)
        if parsed.subject is None:
            raise ManifestError("a referrer must have a subject")
        mt = media_type or parsed.media_type or MT_MANIFEST
        computed = Digest.of(data)
        resp = self.client._request(
            "PUT",
            self.client._url(f"/v2/{self.repository}/manifests/{computed}"),
            ok=(201,),
            what="push referrer",
            data=data,
            headers={"Content-Type": mt},
        )
        self.client._check_header_digest(resp, computed, "push referrer")
        desc = Descriptor(mt, computed, len(data), dict(parsed.annotations), parsed.artifact_type)
        if resp.headers.get("OCI-Subject") == str(parsed.subject.digest):
            return desc
        fallback = parsed.subject.digest.tag_form
        claim_tag = f"{fallback}.claim-{computed.hex[:16]}"

        def merge(current: bytes | None, claims: list[tuple[str, bytes]]) -> bytes | None:
            entries: list[Descriptor] = []
            if current is not None:
                entries = list(parse_index(current, what=f"referrers index {fallback}").manifests)
            have = {e.digest for e in entries}
            changed = current is None
            for _tag, body in claims:
                p = parse_any_manifest(body)
                d = Digest.of(body)
                if d in have:
                    continue
                have.add(d)
                changed = True
                entries.append(Descriptor(
                    p.media_type or MT_MANIFEST, d, len(body), dict(p.annotations), p.artifact_type
                ))
            if not changed:
                return None
            return ImageIndex(tuple(entries)).to_bytes()

        self.client.put_manifest(self.repository, claim_tag, data, mt)
        self.converge(fallback, f"{fallback}.claim-", merge, MT_INDEX)
        return desc

    def converge(
        self,
        tag: str,
        claim_prefix: str,
        merge: Callable[[bytes | None, list[tuple[str, bytes]]], bytes | None],
        media_type: str,
        *,
        attempts: int = 60,
    ) -> Descriptor:
        """Write, re-read, verify, retry until `tag` holds every claim under `claim_prefix`.

        `merge(current, claims)` returns the new manifest for `tag` (the union
        of `current` and the claims), or None when `current` already holds
        them all. Returns the descriptor of the converged manifest.
        """
        rng = random.Random()
        last_error: RegistryError | None = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(rng.uniform(0, 0.02 * min(attempt, 10)))
            try:
                claims = [t for t in self.tags() if t.startswith(claim_prefix)]
                bodies = []
                for t in claims:
                    try:
                        bodies.append((t, self.get_manifest(t)[0]))
                    except (NotFoundError, RegistryError):
                        # distribution's filesystem driver lists a tag before its link file is
                        # complete (404 or 500 meanwhile); that claim's writer converges afterwards.
                        continue
                try:
                    current, current_desc = self.get_manifest(tag)
                except NotFoundError:
                    current, current_desc = None, None
                new = merge(current, bodies)
                if new is None and current_desc is not None:
                    return current_desc
                if new is not None:
                    self.client.put_manifest(self.repository, tag, new, media_type)
            except RegistryError as exc:
                # The tag is being rewritten by another writer right now (the registry answers 500
                # while its link file is half-written): read again.
                last_error = exc
                continue
        raise RegistryError(
            f"could not converge tag {tag!r} after {attempts} attempts",
            hint="Too many concurrent writers, or something keeps rewriting the tag.",
            details={"last error": last_error.message if last_error else "none"},
        )


def _add_query(url: str, **params: str) -> str:
    sep = "&" if urllib.parse.urlsplit(url).query else "?"
    return url + sep + urllib.parse.urlencode(params)


def _rechunk(source: IO[bytes] | Iterable[bytes], size: int) -> Iterator[bytes]:
    read = getattr(source, "read", None)
    if read is not None:
        while True:
            chunk = read(size)
            if not chunk:
                return
            yield chunk
        return
    buf = bytearray()
    for piece in source:
        buf += piece
        while len(buf) >= size:
            yield bytes(buf[:size])
            del buf[:size]
    if buf:
        yield bytes(buf)

