"""A local Sigstore-like instance in one directory: issuer, CA, logs, OCI layout.

``labkit init [DIR] [--seed S]`` creates it::

    DIR/instance.json         what this instance is (URLs, creation time, lab seed)
    DIR/ca/root.pem           root CA certificate
    DIR/ca/intermediate.pem   issuing CA certificate
    DIR/keys/*.pem            private keys (real mode only; lab keys come from the seed)
    DIR/tlog/                 the transparency log (labkit.tlog)
    DIR/tlog2/                the Rekor v2 tile log (``labkit init --rekor-api 2``; labkit.tlog.tilelog)
    DIR/oci/                  an OCI image layout
    DIR/oidc/                 the issuer's discovery document and JWKS
    DIR/tsa/chain.pem         the timestamp authority's chain (RFC 3161 TSA leaf, its root)
    DIR/trusted_root.json     the Sigstore TrustedRoot pointing at all of the above

With a seed every key, serial number and signature is derived from it. The
`Instance` that `Instance.create` returns reads a `FixedClock` starting at the
creation time and ticking one second per reading, so a notebook gets the same
bytes on every run. `Instance.open` (every CLI command, ``labkit serve``) reads
the real clock, so tokens, certificates and log entries of a served or reused
seeded instance carry real times that real clients accept; pass
``lab_clock=True`` to resume the lab clock instead.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit._internal.fsutil import atomic_write, file_lock, read_bytes
from labkit._internal.jsonio import JSONValue
from labkit.bundle import TransparencyLogEntry
from labkit.errors import InputError, KeyFileError, KeylessError
from labkit.keyless.ca import CertificateAuthority
from labkit.keyless.ctlog import CTLog
from labkit.keyless.oidc import OIDCIssuer
from labkit.keyless.trustroot import (
    CAEntry,
    LogEntryKey,
    client_trust_config,
    rfc3339,
    trusted_root,
    trusted_root_json,
)
from labkit.keys import (
    SigningKey,
    generate,
    load_secret_pem,
    make_private_dir,
    save_secret_pem,
)
from labkit.lab import (
    DEFAULT_LAB_TIME,
    Clock,
    FixedClock,
    Lab,
    SystemClock,
    SystemEntropy,
    utc,
)
from labkit.oci.layout import OCILayout
from labkit.signingconfig import SigningConfig
from labkit.timestamping import Timestamper, timestampers_for
from labkit.tlog.rekor2 import Rekor2Service, trusted_root_tlog
from labkit.tlog.store import TransparencyLog
from labkit.tlog.tilelog import TileLog, origin_for_url
from labkit.tsa.authority import TimestampAuthority
from labkit.tsa.chain import DEFAULT_TSA_URL, TSAMaterial, create_tsa, tsa_entry
from labkit.tsa.store import load_tsa, save_tsa

if TYPE_CHECKING:
    from labkit.tlog.entries import LogEntry

__all__ = ["INSTANCE_FILE", "Instance"]

INSTANCE_FILE = "instance.json"
_FORMAT = "labkit-instance/1"
#: Hostnames under .invalid (RFC 6761 §6.4) never resolve: nothing can leak to a network.
DEFAULT_URLS = {
    "issuer_url": "https://oidc.labkit.invalid",
    "ca_url": "https://fulcio.labkit.invalid",
    "tlog_url": "https://rekor.labkit.invalid",
    "ctlog_url": "https://ctfe.labkit.invalid",
    "tsa_url": DEFAULT_TSA_URL,
    "tlog2_url": "https://rekor2.labkit.invalid",
}
#: The Rekor API major versions an instance can sign through (``labkit init --rekor-api N``).
REKOR_APIS = (1, 2)
_KEYS = {
    "oidc": "ed25519",
    "root-ca": "ecdsa-p384",
    "intermediate-ca": "ecdsa-p384",
    "ctlog": "ecdsa-p256",
    "tlog": "ecdsa-p256",
}


def default_instance_dir() -> Path:
    """``$LABKIT_HOME`` if set, else ``./.labkit`` in the current directory."""
    home = os.environ.get("LABKIT_HOME")
    return Path(home) if home else Path.cwd() / ".labkit"


def _save_tsa(root: Path, material: TSAMaterial) -> None:
    save_tsa(material, chain_path=root / "tsa" / "chain.pem", key_path=root / "keys" / "tsa.pem")


def _parse_time(value: JSONValue) -> _dt.datetime:
    if not isinstance(value, str):
        raise KeylessError("instance.json: 'created' must be an RFC 3339 string")
    try:
        return utc(_dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise KeylessError(f"instance.json: bad time {value!r}") from None


class Instance:
    """An opened lab instance. Use `Instance.create` or `Instance.open`."""

    def __init__(
        self, path: Path, config: dict[str, Any], *, clock: Clock | None = None, lab_clock: bool = True
    ) -> None:
        self.path = path
        self.config = config
        self.created = _parse_time(config.get("created"))
        seed = config.get("seed")
        self.lab: Lab | None
        self._tlog: Any = None
        self._rekor2: Rekor2Service | None = None
        self._rekor2_log: TileLog | None = None
        self._tlog_lock = threading.Lock()
        if seed is not None:
            if clock is None:
                clock = FixedClock(self._lab_start(), tick=_dt.timedelta(seconds=1)) if lab_clock else SystemClock()
            self.lab = Lab(seed=str(seed), clock=clock)
            self.clock: Clock = self.lab.clock
        else:
            self.lab = None
            self.clock = clock or SystemClock()
        self._keys = {name: self._load_key(name, alg) for name, alg in _KEYS.items()}
        self.issuer = OIDCIssuer(self.url("issuer_url"), self._keys["oidc"], clock=self.clock)
        self.ctlog = CTLog(self._keys["ctlog"], base_url=self.url("ctlog_url"))
        root = self._load_cert("root.pem")
        inter = self._load_cert("intermediate.pem")
        self.ca = CertificateAuthority(
            root_cert=root,
            intermediate_key=self._keys["intermediate-ca"],
            intermediate_cert=inter,
            issuer_url=self.issuer.url,
            jwks=self.issuer.jwks(),
            clock=self.clock,
            entropy=self.lab.entropy if self.lab else SystemEntropy(),
            ctlog=self.ctlog,
            serial_counter=self._next_serial_number,
        )
        material = self._load_tsa()
        self.tsa = TimestampAuthority(material.signing_key, material.chain, clock=self.clock,
                                      entropy=self.lab.entropy if self.lab else SystemEntropy())

    # -- creation and opening ---------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        seed: str | None = None,
        clock: Clock | None = None,
        force: bool = False,
        timestamp_only: bool = False,
        rekor_api: int = 1,
    ) -> Instance:
        """Create an instance in `path` (default `default_instance_dir()`).

        With `seed` it is a reproducible lab instance; without, keys are random
        and stored (mode 0600) under ``keys/``. An existing instance is refused
        unless `force`. A `timestamp_only` instance logs nothing: its bundles carry
        a certificate and an RFC 3161 timestamp (as GitHub's own instance issues for
        private repositories); they verify only under a signed-timestamp policy.
        With `rekor_api` 2 its bundles log to a Rekor v2 tile log (hashedrekord 0.0.2,
        no SET) and carry an RFC 3161 timestamp, their only source of time.
        """
        if rekor_api not in REKOR_APIS:
            raise InputError(f"unsupported Rekor API version {rekor_api}", details={"supported": str(REKOR_APIS)})
        root = Path(path) if path is not None else default_instance_dir()
        if not root.is_dir():
            make_private_dir(root)  # 0700 whatever the umask: nobody else may swap its keys or CA files
        with file_lock(root / ".instance.lock"):
            if (root / INSTANCE_FILE).exists() and not force:
                raise InputError(
                    f"{root} already holds a labkit instance",
                    hint="Open it with Instance.open, or pass force=True (--force) to replace it.",
                )
            created = utc(clock.now()) if clock is not None else (
                DEFAULT_LAB_TIME if seed is not None else SystemClock().now()
            )
            config: dict[str, Any] = {"format": _FORMAT, "created": rfc3339(created), **DEFAULT_URLS}
            if seed is not None:
                config["seed"] = seed
            if timestamp_only:
                config["timestamp_only"] = True
            if rekor_api != 1:
                config["rekor_api"] = rekor_api
            lab = Lab(seed=seed) if seed is not None else None
            keys: dict[str, SigningKey] = {}
            for name, alg in _KEYS.items():
                if lab is not None:
                    keys[name] = generate(alg, lab=lab, label=f"instance/{name}")
                else:
                    keys[name] = generate(alg)
                    save_secret_pem(keys[name], root / "keys" / f"{name}.pem")  # 0600 in a 0700 keys/, any umask
            root_cert, inter_cert = CertificateAuthority.create_root_and_intermediate(
                keys["root-ca"], keys["intermediate-ca"], now=created,
                entropy=lab.entropy if lab is not None else SystemEntropy(),
            )
            atomic_write(root / "ca" / "root.pem", root_cert.public_bytes(serialization.Encoding.PEM))
            atomic_write(root / "ca" / "intermediate.pem", inter_cert.public_bytes(serialization.Encoding.PEM))
            _save_tsa(root, create_tsa(lab=lab, now=created))
            try:
                OCILayout.init(root / "oci")
            except ImportError:  # pragma: no cover - the OCI package is part of labkit
                (root / "oci").mkdir(exist_ok=True)
            # instance.json last: a half-created instance never opens.
            atomic_write(root / INSTANCE_FILE, (json.dumps(config, indent=2) + "\n").encode())
        instance = cls(root, config, clock=clock)
        instance.write_trusted_root()
        instance.publish_issuer()
        return instance

    @classmethod
    def open(
        cls, path: str | os.PathLike[str] | None = None, *, clock: Clock | None = None, lab_clock: bool = False
    ) -> Instance:
        """Open the instance in `path` (default `default_instance_dir()`) on the real clock.

        A seeded instance keeps its seeded keys; its clock is the system's unless `clock` is given or
        `lab_clock` asks for the lab clock (resuming after the last logged entry, for reproducible runs).
        """
        root = Path(path) if path is not None else default_instance_dir()
        raw = read_bytes(root / INSTANCE_FILE, "labkit instance (run labkit init first)")
        try:
            config = json.loads(raw)
        except ValueError:
            raise KeylessError(f"{root / INSTANCE_FILE} is not JSON") from None
        if not isinstance(config, dict) or config.get("format") != _FORMAT:
            raise KeylessError(f"{root / INSTANCE_FILE} is not a {_FORMAT} file")
        return cls(root, config, clock=clock, lab_clock=lab_clock)

    def _lab_start(self) -> _dt.datetime:
        """Lab clocks resume after the last logged entry, so reopening never goes back in time."""
        if not (self.path / "tlog").is_dir():
            return self.created

        key = generate(_KEYS["tlog"], lab=Lab(seed=str(self.config["seed"])), label="instance/tlog")
        log = TransparencyLog.open(self.path / "tlog", key=key)
        try:
            if log.size == 0:
                return self.created
            last = log.get(log.size - 1, proof=False).integrated_time
        finally:
            log.close()
        return max(self.created, _dt.datetime.fromtimestamp(last + 1, _dt.timezone.utc))

    def _next_serial_number(self) -> int:
        """How many leaves this instance's CA issued before this one, counted in ``ca/serial`` across processes."""
        path = self.path / "ca" / "serial"
        with file_lock(self.path / "ca" / ".serial.lock"):
            text = path.read_text().strip() if path.exists() else "0"
            if not text.isascii() or not text.isdigit():
                raise KeylessError(f"{path} must hold a decimal count of issued certificates")
            number = int(text)
            atomic_write(path, f"{number + 1}\n".encode())
        return number

    def _load_tsa(self) -> TSAMaterial:
        """The TSA's key and chain; an instance made before it had a TSA gets one now, from its creation time."""
        if not (self.path / "tsa" / "chain.pem").exists():
            lab = Lab(seed=str(self.config["seed"])) if self.lab is not None else None
            with file_lock(self.path / ".instance.lock"):
                if not (self.path / "tsa" / "chain.pem").exists():
                    _save_tsa(self.path, create_tsa(lab=lab, now=self.created))
        return load_tsa(chain_path=self.path / "tsa" / "chain.pem", key_path=self.path / "keys" / "tsa.pem",
                        lab=Lab(seed=str(self.config["seed"])) if self.lab is not None else None)

    def _load_key(self, name: str, alg: str) -> SigningKey:
        if self.lab is not None:
            return generate(alg, lab=self.lab, label=f"instance/{name}")
        try:
            return load_secret_pem(self.path / "keys" / f"{name}.pem", f"instance key {name}")
        except KeyFileError as exc:
            raise KeylessError(exc.message) from None

    def _load_cert(self, name: str) -> x509.Certificate:
        data = read_bytes(self.path / "ca" / name, f"CA certificate {name}")
        try:
            return x509.load_pem_x509_certificate(data)
        except ValueError:
            raise KeylessError(f"CA certificate {name} is not PEM") from None

    @property
    def timestamp_only(self) -> bool:
        """True when the instance signs with timestamps and no log entry (``labkit init --timestamp-only``)."""
        return self.config.get("timestamp_only") is True

    @property
    def rekor_api(self) -> int:
        """The Rekor API major version this instance signs through: 1 (SQLite log, SET) or 2 (tile log)."""
        value = self.config.get("rekor_api", 1)
        if value not in REKOR_APIS or isinstance(value, bool):
            raise KeylessError(f"instance.json: rekor_api must be one of {REKOR_APIS}")
        return int(value)

    def url(self, name: str) -> str:
        """One of the instance's service URLs (``issuer_url``, ``ca_url``, ``tlog_url``, ``ctlog_url``, ``tsa_url``)."""
        return str(self.config.get(name) or DEFAULT_URLS[name])

    @property
    def oci_dir(self) -> Path:
        """The instance's OCI image layout directory."""
        return self.path / "oci"

    # -- the transparency log ---------------------------------------------------------

    @property
    def tlog_key(self) -> SigningKey:
        """The transparency log's signing key."""
        return self._keys["tlog"]

    @property
    def tlog(self) -> Any:
        """The instance's `labkit.tlog.store.TransparencyLog` (opened on first use)."""
        # Threads signing at once must share one connection, not race to open several on first use.
        with self._tlog_lock:
            if self._tlog is None:
                self._tlog = self._open_tlog()
            return self._tlog

    def _open_tlog(self) -> Any:
        # Rekor v1 names its checkpoints after the log's hostname.
        host = self.url("tlog_url").split("://", 1)[-1].split("/", 1)[0]
        return TransparencyLog.open(self.path / "tlog", key=self.tlog_key, clock=self.clock, name=host)

    @property
    def rekor2(self) -> Rekor2Service:
        """The Rekor v2 write path over ``DIR/tlog2`` (origin: the host of ``tlog2_url``), started on first use."""
        with self._tlog_lock:
            if self._rekor2 is None:
                self._rekor2_log = self._tile_log()
                self._rekor2 = Rekor2Service(self._rekor2_log)
            return self._rekor2

    @property
    def rekor2_log(self) -> TileLog:
        """The tile log behind `rekor2` (its integrator started)."""
        service = self.rekor2
        assert self._rekor2_log is not None and service.log is self._rekor2_log
        return self._rekor2_log

    def _tile_log(self) -> TileLog:
        return TileLog.open(self.path / "tlog2", origin=origin_for_url(self.url("tlog2_url")), lab=self.lab)

    def rekor2_tlog(self) -> dict[str, Any]:
        """The trusted root's ``tlogs[]`` item for the instance's Rekor v2 log (no integrator started)."""
        log = self._rekor2_log if self._rekor2_log is not None else self._tile_log()
        return trusted_root_tlog(self.url("tlog2_url"), log.public_key, log.key_id, self.created)

    def close(self) -> None:
        """Close the transparency log's database and stop the Rekor v2 integrator."""
        if self._rekor2 is not None:
            self._rekor2.close()
            self._rekor2 = self._rekor2_log = None
        if self._tlog is not None:
            self._tlog.close()
            self._tlog = None

    def __enter__(self) -> Instance:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def log_append(self, body: bytes) -> LogEntry:
        """Append a canonical entry body; the entry comes back with SET, inclusion proof and checkpoint."""
        entry: LogEntry = self.tlog.append(body)
        return entry

    def log_rekor2(self, request: Mapping[str, Any]) -> TransparencyLogEntry:
        """Log a ``hashedRekordRequestV002`` in the instance's Rekor v2 log; the bundle's entry (no SET)."""
        return TransparencyLogEntry.from_dict(self.rekor2.create_entry(request), "tlogEntry")

    # -- trust ------------------------------------------------------------------------

    def trusted_root(self) -> dict[str, Any]:
        """The Sigstore TrustedRoot for this instance (as a dict)."""
        tlog_pub = self.tlog_key.public_key()
        return self._with_rekor2(trusted_root(
            tlogs=[LogEntryKey(self.url("tlog_url"), tlog_pub, tlog_pub.key_id(), self.created)],
            certificate_authorities=[
                CAEntry(self.url("ca_url"), list(self.ca.chain), self.created,
                        organization="labkit", common_name="labkit lab CA")
            ],
            ctlogs=[LogEntryKey(self.url("ctlog_url"), self.ctlog.public_key, self.ctlog.log_id, self.created)],
            timestamp_authorities=[tsa_entry(self.tsa.chain, uri=self.url("tsa_url"))],
        ))

    def _with_rekor2(self, root: dict[str, Any]) -> dict[str, Any]:
        if self.rekor_api == 2:
            root["tlogs"].append(self.rekor2_tlog())
        return root

    def trusted_root_json(self) -> bytes:
        """The TrustedRoot as stable JSON bytes."""
        return trusted_root_json(self.trusted_root())

    def client_trust_config(self) -> dict[str, Any]:
        """A ClientTrustConfig (``sigstore --trust-config``): the trusted root and the signing config."""
        return client_trust_config(
            self.trusted_root(), ca_url=self.url("ca_url"), oidc_url=self.url("issuer_url"),
            tlog_url=None if self.timestamp_only else self.url("tlog2_url" if self.rekor_api == 2 else "tlog_url"),
            tsa_url=self.url("tsa_url"), start=self.created, tlog_api_version=self.rekor_api,
        )

    def client_trust_config_json(self) -> bytes:
        """The ClientTrustConfig as JSON bytes."""
        return (json.dumps(self.client_trust_config(), indent=2) + "\n").encode()

    def signing_config(self) -> SigningConfig:
        """The instance's own signing config: its CA, issuer, log and TSA under their (never resolving) URLs."""
        return SigningConfig.from_dict(self.client_trust_config()["signingConfig"])

    def timestampers(self, config: SigningConfig | None = None) -> list[Timestamper]:
        """The timestampers `config` (default: the instance's own) selects now; this instance's TSA in process."""
        return timestampers_for(config or self.signing_config(), now=self.clock.now(),
                                local={self.url("tsa_url"): self.tsa})

    def publish_issuer(self) -> Path:
        """Write the issuer's discovery document and JWKS under ``DIR/oidc/`` (what ``jwks_uri`` serves)."""
        out = self.path / "oidc"
        atomic_write(out / "openid-configuration", (json.dumps(self.issuer.discovery(), indent=2) + "\n").encode())
        atomic_write(out / "jwks.json", (json.dumps(self.issuer.jwks(), indent=2) + "\n").encode())
        return out

    def write_trusted_root(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the TrustedRoot atomically (default ``DIR/trusted_root.json``)."""
        return atomic_write(path if path is not None else self.path / "trusted_root.json", self.trusted_root_json())

    def __repr__(self) -> str:
        mode = f"LAB seed={self.lab.seed!r}" if self.lab else "real"
        return f"Instance({mode}, created={rfc3339(self.created)})"
