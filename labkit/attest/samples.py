"""The lab's demo image, and the SBOM and provenance labkit generates for it.

The predicates are derived from the image itself (its manifest, config and
layer files), not written by hand: `cyclonedx_sbom` and `spdx_sbom` list the
image, its layers and every file with its SHA-256, plus the Python packages
pinned in ``requirements.txt``; `slsa_provenance` records the build inputs
(the image spec) and the builder. Same image and clock, same bytes.

``tools/make_samples.py`` writes them to ``data/``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import gzip
import hashlib
import io
import json
import re
import tarfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labkit import __version__
from labkit._internal.jsonio import JSONValue
from labkit.errors import AttestationError
from labkit.lab import Clock, FixedClock
from labkit.oci.builder import BlobSink, build_from_dict
from labkit.oci.descriptor import parse_manifest

if TYPE_CHECKING:
    from labkit.oci.builder import BuiltImage
    from labkit.oci.signatures import Store

__all__ = ["DEMO_IMAGE_NAME", "build_demo_image", "cyclonedx_sbom", "read_image", "slsa_provenance", "spdx_sbom"]

#: The repository name the demo image is attested under.
DEMO_IMAGE_NAME = "registry.lab/labkit/demo"
#: SLSA buildType of labkit's image builder (a URI naming how to read externalParameters).
_BUILD_TYPE = "https://labkit.dev/oci-image-build/v1"
#: The builder identity recorded in provenance.
BUILDER_ID = "https://labkit.dev/builder/lab"


def _demo_image_spec() -> dict[str, Any]:
    """The demo image as a `labkit.oci.builder.build_from_dict` spec."""
    return {
        "tag": "v1",
        "layers": [
            {"etc/os-release": 'NAME="labkit demo"\nID=labkit\nVERSION_ID=1\n'},
            {
                "app/hello.py": 'print("hello from the labkit demo image")\n',
                "app/requirements.txt": "requests==2.32.3\nPyYAML==6.0.2\nurllib3==2.2.3\n",
            },
        ],
        "config": {"Cmd": ["python3", "/app/hello.py"], "WorkingDir": "/app",
                   "Labels": {"org.opencontainers.image.source": "https://labkit.dev/demo"}},
    }


def build_demo_image(store: BlobSink) -> BuiltImage:
    """Build the demo image into `store` (an OCI layout or registry repository)."""
    return build_from_dict(store, _demo_image_spec())


@dataclass(frozen=True)
class ImageContents:
    """What an image holds: its digest, config, layer digests and files (path -> sha256 hex)."""

    digest: str
    config: dict[str, Any]
    layers: tuple[str, ...]
    files: dict[str, str]
    file_bytes: dict[str, bytes]


def read_image(store: Store, ref: str) -> ImageContents:
    """Open an image from `store` (tag or digest) and list its files."""
    data, desc = store.get_manifest(ref)
    manifest = parse_manifest(data)
    try:
        config = json.loads(store.get_blob(manifest.config.digest, manifest.config.size))
    except ValueError:
        raise AttestationError("the image config is not JSON") from None
    files: dict[str, str] = {}
    raw: dict[str, bytes] = {}
    for layer in manifest.layers:
        blob = store.get_blob(layer.digest, layer.size)
        try:
            tar_bytes = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
            with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
                for member in tar.getmembers():
                    if member.isfile():
                        fh = tar.extractfile(member)
                        content = fh.read() if fh is not None else b""
                        files[member.name] = hashlib.sha256(content).hexdigest()
                        raw[member.name] = content
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise AttestationError(f"layer {layer.digest} is not a readable tar: {exc}") from None
    return ImageContents(str(desc.digest), config, tuple(str(ly.digest) for ly in manifest.layers),
                         dict(sorted(files.items())), raw)


_REQ_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)$")


def _python_packages(contents: ImageContents) -> list[tuple[str, str]]:
    out = []
    for path, data in contents.file_bytes.items():
        if path.endswith("requirements.txt"):
            for line in data.decode("utf-8", "replace").splitlines():
                m = _REQ_RE.match(line.strip())
                if m:
                    out.append((m.group(1), m.group(2)))
    return sorted(set(out))


def _timestamp(clock: Clock | None) -> str:
    now = (clock or FixedClock()).now().astimezone(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def _uuid_for(digest: str, kind: str) -> str:
    # Deterministic: the same image gives the same serial number / namespace.
    return str(uuid.UUID(bytes=hashlib.sha256(f"{kind}:{digest}".encode()).digest()[:16], version=4))


def cyclonedx_sbom(
    contents: ImageContents, *, name: str = DEMO_IMAGE_NAME, clock: Clock | None = None
) -> dict[str, Any]:
    """A CycloneDX 1.5 JSON SBOM of the image (container, files, Python packages)."""
    components: list[dict[str, Any]] = []
    for pkg, version in _python_packages(contents):
        components.append({"type": "library", "name": pkg, "version": version,
                           "purl": f"pkg:pypi/{pkg.lower()}@{version}", "bom-ref": f"pkg:pypi/{pkg.lower()}@{version}"})
    for path, sha in contents.files.items():
        components.append({"type": "file", "name": path, "bom-ref": f"file:{path}",
                           "hashes": [{"alg": "SHA-256", "content": sha}]})
    hexd = contents.digest.split(":", 1)[1]
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{_uuid_for(contents.digest, 'cyclonedx')}",
        "version": 1,
        "metadata": {
            "timestamp": _timestamp(clock),
            "tools": {"components": [{"type": "application", "name": "labkit", "version": __version__}]},
            "component": {"type": "container", "name": name, "version": contents.digest,
                          "bom-ref": f"pkg:oci/{name.rsplit('/', 1)[-1]}@sha256%3A{hexd}",
                          "purl": f"pkg:oci/{name.rsplit('/', 1)[-1]}@sha256%3A{hexd}"},
        },
        "components": components,
    }


def spdx_sbom(contents: ImageContents, *, name: str = DEMO_IMAGE_NAME, clock: Clock | None = None) -> dict[str, Any]:
    """An SPDX 2.3 JSON document for the image (one package per image and Python package, files)."""
    hexd = contents.digest.split(":", 1)[1]
    packages: list[dict[str, Any]] = [{
        "SPDXID": "SPDXRef-image", "name": name, "versionInfo": contents.digest,
        "downloadLocation": "NOASSERTION", "filesAnalyzed": True,
        "checksums": [{"algorithm": "SHA256", "checksumValue": hexd}],
        "primaryPackagePurpose": "CONTAINER",
    }]
    rels: list[dict[str, str]] = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                                   "relatedSpdxElement": "SPDXRef-image"}]
    for i, (pkg, version) in enumerate(_python_packages(contents)):
        sid = f"SPDXRef-pypi-{i}"
        packages.append({"SPDXID": sid, "name": pkg, "versionInfo": version, "downloadLocation": "NOASSERTION",
                         "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                           "referenceLocator": f"pkg:pypi/{pkg.lower()}@{version}"}]})
        rels.append({"spdxElementId": "SPDXRef-image", "relationshipType": "CONTAINS", "relatedSpdxElement": sid})
    files = []
    for i, (path, sha) in enumerate(contents.files.items()):
        sid = f"SPDXRef-file-{i}"
        files.append({"SPDXID": sid, "fileName": f"./{path}",
                      "checksums": [{"algorithm": "SHA256", "checksumValue": sha}]})
        rels.append({"spdxElementId": "SPDXRef-image", "relationshipType": "CONTAINS", "relatedSpdxElement": sid})
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{name}@{contents.digest}",
        "documentNamespace": f"https://labkit.dev/spdx/{_uuid_for(contents.digest, 'spdx')}",
        "creationInfo": {"created": _timestamp(clock), "creators": [f"Tool: labkit-{__version__}"]},
        "packages": packages,
        "files": files,
        "relationships": rels,
    }


def slsa_provenance(contents: ImageContents, spec: Mapping[str, Any] | None = None, *,
                    clock: Clock | None = None, invocation_id: str = "lab-build-1") -> dict[str, Any]:
    """SLSA provenance v1 for building the image from `spec` (default: the demo spec)."""
    spec = dict(spec if spec is not None else _demo_image_spec())
    started = _timestamp(clock)
    finished = _timestamp(clock)
    deps = [{"name": path, "digest": {"sha256": sha}} for path, sha in contents.files.items()]
    return {
        "buildDefinition": {
            "buildType": _BUILD_TYPE,
            "externalParameters": {"spec": spec},
            "internalParameters": {"reproducible": True, "tarFormat": "pax", "gzipMtime": 0},
            "resolvedDependencies": deps,
        },
        "runDetails": {
            "builder": {"id": BUILDER_ID, "version": {"labkit": __version__}},
            "metadata": {"invocationId": invocation_id, "startedOn": started, "finishedOn": finished},
            "byproducts": [{"name": "config", "mediaType": "application/vnd.oci.image.config.v1+json",
                            "content": _b64_json(contents.config)}],
        },
    }


def _b64_json(value: JSONValue) -> str:
    return base64.b64encode(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).decode()
