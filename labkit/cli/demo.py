"""`labkit demo`: the whole pipeline as it stands, headless, saying what each step did.

    labkit demo [--dir DIR] [--real]

Stages: generate a key pair (cosign format) -> sign a blob into a bundle
with a local transparency log entry -> verify it step by step -> tamper with
the artifact and watch verification fail -> keyless: a lab instance (OIDC
issuer, CA, log) signs by identity, and a wrong identity is refused -> an
OCI image built, signed keyless and verified -> an attack (GHSA-whqx-f9j3-ch6m
bundle forgery) accepted by the vulnerable mode and caught by labkit. By default everything is lab mode
(seed ``demo``, fixed clock) so the output is identical on every run;
``--real`` uses random keys and the system clock. Files go to a temporary
directory (removed afterwards) unless ``--dir`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labkit.errors import InputError

if TYPE_CHECKING:
    from labkit.lab import Lab

__all__ = ["register", "run_demo"]

#: The lab demo's key password (lab mode only: its key is public anyway, and the output must not vary).
_LAB_PASSWORD = "demo"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this group's commands to the parser."""
    p = sub.add_parser(
        "demo", help="run the whole pipeline headless (keys, log, keyless, image, attack), printing each step"
    )
    p.add_argument("--dir", default=None, help="keep the demo's files in this directory")
    p.add_argument("--real", action="store_true", help="random keys and the system clock instead of lab mode")
    p.add_argument("--force", action="store_true", help="let --dir be a directory that already holds files "
                   "(the demo's files in it are replaced)")
    p.set_defaults(handler=_demo)


@contextlib.contextmanager
def _workdir(path: str | None, force: bool = False) -> Iterator[Path]:
    if path:
        d = Path(path)
        if d.is_dir() and any(d.iterdir()) and not force:
            # The demo writes cosign.key, cosign.pub, ...: never over a user's files without --force.
            raise InputError(f"{d} is not empty; refusing to write the demo's files into it",
                             hint="Pass an empty or new --dir, or --force to replace the demo's files there.")
        d.mkdir(parents=True, exist_ok=True)
        yield d
    else:
        with tempfile.TemporaryDirectory(prefix="labkit-demo-") as tmp:
            yield Path(tmp)


def _password(workdir: Path, lab: bool) -> tuple[str, str]:
    """The key password and how the output names it: the lab's fixed one in lab mode (LAB output never varies);
    in real mode ``COSIGN_PASSWORD`` if set (as cosign reads it), else a random one kept next to the key
    (mode 0600), never printed."""
    import os
    import secrets

    from labkit._internal.fsutil import atomic_write

    if lab:
        return _LAB_PASSWORD, f"password {_LAB_PASSWORD!r}"
    if "COSIGN_PASSWORD" in os.environ:
        return os.environ["COSIGN_PASSWORD"], "password from COSIGN_PASSWORD"
    password = secrets.token_urlsafe(24)
    atomic_write(workdir / "cosign.password", password.encode() + b"\n", mode=0o600)
    return password, "random password (not shown) in cosign.password, mode 0600; set COSIGN_PASSWORD to choose one"


def run_demo(workdir: Path, *, real: bool = False, out: Callable[[str], None] = print) -> bool:
    """Run every stage in `workdir`; return True when each stage behaved as it should."""

    from labkit.keyfile import load_private_key, load_public_key_file, save_key_pair
    from labkit.keys import generate
    from labkit.lab import Lab, SystemClock
    from labkit.sign import sign_blob
    from labkit.tlog.store import TransparencyLog
    from labkit.verify import TrustedRoot, explain_bundle

    lab = None if real else Lab(seed="demo")
    ok = True

    def stage(n: int, title: str) -> None:
        out("")
        out(f"== {n}. {title}")

    out("labkit demo: " + ("REAL mode (random keys, system clock)" if real else
                           "LAB mode (seed 'demo', fixed clock): every run prints the same bytes"))

    # 1. keys
    stage(1, "generate a key pair (labkit generate-key-pair)")
    key = generate("ecdsa-p256", lab=lab, label="demo-signer")
    password, said = _password(workdir, lab is not None)
    paths = save_key_pair(key, workdir / "cosign", password=password, force=True, allow_lab=lab is not None, lab=lab)
    out(f"   {paths.private.name}: ENCRYPTED SIGSTORE PRIVATE KEY (scrypt N=65536 + NaCl secretbox around PKCS#8),"
        f" mode 0600, {said}")
    out(f"   {paths.public.name}: PEM public key, key id sha256:{key.public_key().key_id().hex()}")
    key = load_private_key(paths.private, password)
    public = load_public_key_file(paths.public)
    out(f"   reloaded the private key with the password: {key.algorithm.value}{' (LAB)' if key.lab else ''}")

    # 2. sign with a log entry
    stage(2, "sign a blob and record it in a local transparency log (labkit sign-blob)")
    artifact = workdir / "artifact.txt"
    artifact.write_bytes(b"hello from the labkit demo\n")
    log_dir = workdir / "tlog"
    clock: Any = lab.clock if lab is not None else SystemClock()
    log = (TransparencyLog.open(log_dir, lab=lab) if lab is not None
           else TransparencyLog.open(log_dir, generate("ecdsa-p256"), clock=clock))
    try:
        bundle = sign_blob(artifact, key, tlog=log.uploader(), clock=clock)
        log_id, log_key, log_name = log.log_id, log.public_key, log.name
    finally:
        log.close()
    bundle_path = workdir / "artifact.txt.sigstore.json"
    bundle_path.write_text(bundle.to_json(indent=2) + "\n")
    ms = bundle.message_signature
    assert ms is not None
    entry = bundle.verification_material.tlog_entries[0]
    out(f"   artifact sha256: {ms.digest.hex()}")
    out(f"   signature ({len(ms.signature)} bytes, ECDSA P-256 over the streamed SHA-256 digest)")
    out(f"   log entry: index {entry.log_index}, {entry.kind} {entry.version}, integrated at {entry.integrated_time},"
        f" inclusion proof for tree size {entry.inclusion_proof.tree_size if entry.inclusion_proof else '?'}")
    out(f"   bundle: {bundle_path.name} ({bundle.media_type})")

    # 3. verify
    stage(3, "verify the bundle step by step (labkit verify-blob)")
    root = TrustedRoot.for_log(f"https://{log_name}", log_key, log_id=log_id)
    result = explain_bundle(bundle_path.read_bytes(), artifact, root, key=public)
    for line in result.checklist().splitlines():
        out("   " + line)
    ok &= result.verified

    # 4. tamper
    stage(4, "flip one byte of the artifact and verify again")
    data = bytearray(artifact.read_bytes())
    data[0] ^= 0x01
    artifact.write_bytes(bytes(data))
    out(f"   artifact now starts with {bytes(data[:8])!r}")
    tampered = explain_bundle(bundle_path.read_bytes(), artifact, root, key=public)
    for line in tampered.checklist().splitlines():
        out("   " + line)
    ok &= (not tampered.verified) and tampered.reason == "artifact.digest"

    ok &= _keyless_stages(workdir, artifact, lab, stage, out)

    out("")
    out("demo " + ("finished: every stage behaved as expected" if ok else "FAILED: a stage misbehaved"))
    return ok


def _keyless_stages(
    workdir: Path, artifact: Path, lab: Lab | None, stage: Callable[[int, str], None], out: Callable[[str], None]
) -> bool:
    """Stages 5-7: keyless blob signing, an image, an attack."""
    from labkit.attacks import run_scenario
    from labkit.keyless.instance import Instance
    from labkit.keyless.sign import sign_blob_keyless, sign_image_keyless
    from labkit.oci.builder import build_image
    from labkit.oci.layout import OCILayout
    from labkit.verify import Identity, TrustedRoot, explain_bundle
    from labkit.verify.image import explain_image_signatures

    ok = True
    identity = "alice@example.com"
    stage(5, "keyless: a lab instance signs by identity (labkit init; labkit sign-blob --identity)")
    artifact.write_bytes(b"hello from the labkit demo\n")
    with Instance.create(workdir / "instance", seed="demo" if lab is not None else None, force=True) as inst:
        out(f"   instance: OIDC issuer {inst.issuer.url}, root + intermediate CA, transparency log, OCI layout")
        bundle = sign_blob_keyless(inst, artifact, identity=identity)
        root = TrustedRoot.from_json(inst.trusted_root_json())
        cert = bundle.verification_material.certificate
        out(f"   short-lived certificate for {identity} ({len(cert or b'')} bytes DER), log index "
            f"{bundle.verification_material.tlog_entries[0].log_index}")
        good = explain_bundle(bundle, artifact, root, policy=Identity(identity=identity, issuer=inst.issuer.url))
        out(f"   verify as {identity}: {'VERIFIED' if good.verified else 'REJECTED (' + good.reason + ')'}")
        bad = explain_bundle(bundle, artifact, root,
                             policy=Identity(identity="mallory@example.com", issuer=inst.issuer.url))
        out(f"   verify as mallory@example.com: {'VERIFIED' if bad.verified else 'REJECTED (' + bad.reason + ')'}")
        ok &= good.verified and not bad.verified

        stage(6, "an OCI image: build, sign keyless by digest, verify (labkit image build; labkit sign; labkit verify)")
        store = OCILayout.open(inst.oci_dir) if (inst.oci_dir / "oci-layout").exists() else OCILayout.init(inst.oci_dir)
        image = build_image(store, {"app/hello.txt": b"hello\n"}, tag="app-1.0")
        out(f"   image app:1.0 -> {image.digest}")
        sign_image_keyless(inst, store, image.descriptor, docker_reference="labkit.local/app", identity=identity)
        report = explain_image_signatures(store, image.digest, None, trusted_root=root,
                                          identity=Identity(identity=identity, issuer=inst.issuer.url), tlog=inst.tlog)
        verified = report.verified
        out(
            "   signatures stored as cosign does (tag sha256-<hex>.sig); verify: "
            f"{'VERIFIED' if verified else 'REJECTED'}"
        )
        ok &= verified

    stage(7, "an attack: GHSA-whqx-f9j3-ch6m bundle forgery (labkit attack run ghsa-whqx-blob)")
    outcome = run_scenario("ghsa-whqx-blob", lab)
    for v in outcome.verdicts:
        out("   " + v.line())
    out(f"   caught by labkit: {outcome.caught_by if outcome.caught else 'NO'}")
    ok &= outcome.ok
    return ok


def _demo(args: argparse.Namespace) -> int:
    with _workdir(args.dir, args.force) as workdir:
        return 0 if run_demo(workdir, real=args.real) else 1
