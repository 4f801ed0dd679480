"""`labkit sign / verify / triangulate / tree / image build / image copy`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.keyfile import save_key_pair
from labkit.keys import generate
from labkit.lab import Lab
from labkit.oci.layout import OCILayout
from labkit.oci.registry import RegistryClient
from labkit.oci.signatures import list_signatures, signature_tag
from tests.oci.conftest import Registry


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    lab = Lab(seed="cli")
    key = generate(lab=lab, label="cosign")
    save_key_pair(key, tmp_path / "cosign", password="pw", allow_lab=True, lab=lab)
    monkeypatch.setenv("COSIGN_PASSWORD", "pw")
    return tmp_path / "cosign"


def _build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    app = tmp_path / "app.py"
    app.write_text("print('hi')\n")
    layout = tmp_path / "layout"
    assert main(["image", "build", "--layout", str(layout), "--tag", "v1", "--file", f"{app}:/app/app.py",
                 "--env", "A=1", "--cmd", '["python", "/app/app.py"]']) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"oci:{layout}@sha256:")
    return str(layout), out.rsplit("@", 1)[1]


def test_build_sign_verify_tree_layout(tmp_path: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layout, digest = _build(tmp_path, capsys)
    assert main(["sign", "--key", f"{keys}.key", "--tlog-upload=false", "--new-bundle-format", f"oci:{layout}:v1"]) == 0
    captured = capsys.readouterr()
    assert "uses a tag, not a digest" in captured.err
    assert captured.out.strip() == f"oci:{layout}@{digest}"
    assert main(["sign", "--key", f"{keys}.key", "--tlog-upload=false", f"oci:{layout}@{digest}"]) == 0
    assert "uses a tag" not in capsys.readouterr().err
    assert len(list_signatures(OCILayout.open(layout), digest)) == 1  # deterministic lab key: deduplicated
    assert main(["verify", "--key", f"{keys}.pub", "--insecure-ignore-tlog", "--steps", f"oci:{layout}:v1"]) == 0
    out = capsys.readouterr().out
    payloads = json.loads(out.strip().splitlines()[-1])
    assert payloads[0]["critical"]["image"]["docker-manifest-digest"] == digest
    assert "statement.subject" in out
    assert main(["triangulate", f"oci:{layout}:v1"]) == 0
    assert capsys.readouterr().out.strip() == f"oci:{layout}:{signature_tag(digest)}"
    assert main(["triangulate", "--type", "digest", f"oci:{layout}:v1"]) == 0
    assert capsys.readouterr().out.strip() == f"oci:{layout}@{digest}"
    svg = tmp_path / "tree.svg"
    assert main(["tree", "--svg", str(svg), f"oci:{layout}:v1"]) == 0
    out = capsys.readouterr().out
    assert "Signatures for an image tag" in out and "Sigstore bundle" in out
    assert svg.read_text().startswith("<svg")


def test_verify_failures_are_one_line(tmp_path: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layout, _ = _build(tmp_path, capsys)
    assert main(["verify", "--key", f"{keys}.pub", "--insecure-ignore-tlog", f"oci:{layout}:v1"]) == 1
    err = capsys.readouterr().err
    assert "error: image sha256:" in err and "Traceback" not in err
    assert main(["verify", "--key", f"{keys}.pub", f"oci:{layout}:v1"]) == 1
    assert "--insecure-ignore-tlog" in capsys.readouterr().err
    assert main(["sign", "--key", f"{keys}.key", f"oci:{layout}:v1"]) == 1
    assert "--tlog-upload=false" in capsys.readouterr().err
    assert main(["sign", "--key", f"{keys}.key", "--tlog-dir", str(tmp_path / "log"), f"oci:{layout}:v1"]) == 0
    assert "tlog entry created with index: 0" in capsys.readouterr().err
    assert main(["sign", "--key", f"{keys}.key", "--tlog-upload=false", f"oci:{layout}:nope"]) == 1
    assert "not in" in capsys.readouterr().err
    assert main(["tree", "localhost/UPPER"]) == 1
    assert "invalid" in capsys.readouterr().err
    assert main(["tree", "ghcr.io/a/b:v1"]) == 1
    assert "only to registries on this machine" in capsys.readouterr().err
    assert main(["image", "build", "--layout", str(tmp_path / "x"), "--tag", "v1"]) == 1
    assert "nothing to build" in capsys.readouterr().err


@pytest.mark.registry
def test_copy_sign_verify_registry(tmp_path: Path, keys: Path, registry: Registry,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    layout, digest = _build(tmp_path, capsys)
    ref = f"{registry.host}/labkit/cli"
    assert main(["image", "copy", f"oci:{layout}:v1", f"{ref}:v1"]) == 0
    assert capsys.readouterr().out.strip() == f"{ref}@{digest}"
    assert main(["sign", "--key", f"{keys}.key", "--tlog-upload=false", f"{ref}@{digest}"]) == 0
    capsys.readouterr()
    assert main(["verify", "--key", f"{keys}.pub", "--insecure-ignore-tlog", f"{ref}:v1"]) == 0
    capsys.readouterr()
    assert main(["triangulate", f"{ref}:v1"]) == 0
    assert capsys.readouterr().out.strip() == f"{ref}:{signature_tag(digest)}"
    assert main(["tree", f"{ref}:v1"]) == 0
    assert "🍒" in capsys.readouterr().out
    tags = RegistryClient(registry.url).list_tags("labkit/cli")
    assert signature_tag(digest) in tags and "v1" in tags


def test_build_from_spec_and_dir_then_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "image.yaml"
    spec.write_text("layers:\n  - {a.txt: one}\n  - {b.txt: two}\nconfig: {Cmd: [/a]}\n")
    layout = tmp_path / "l"
    assert main(["image", "build", "--layout", str(layout), "--tag", "spec", "--spec", str(spec)]) == 0
    spec_digest = capsys.readouterr().out.strip().rsplit("@", 1)[1]
    src = tmp_path / "src"
    (src / "etc").mkdir(parents=True)
    (src / "etc" / "app.conf").write_text("x=1\n")
    assert main(["image", "build", "--layout", str(layout), "--tag", "dir", "--dir", str(src)]) == 0
    capsys.readouterr()
    assert sorted(OCILayout.open(layout).tags()) == ["dir", "spec"]
    assert main(["image", "copy", f"oci:{layout}:spec", f"oci:{tmp_path / 'copy'}:v2"]) == 0
    assert capsys.readouterr().out.strip().endswith(spec_digest)
    assert OCILayout.open(tmp_path / "copy").resolve("v2").digest.hex == spec_digest.split(":")[1]
    spec.write_text("- not a mapping\n")
    assert main(["image", "build", "--layout", str(layout), "--tag", "bad", "--spec", str(spec)]) == 1
    assert "mapping" in capsys.readouterr().err
    assert main(["image", "build", "--layout", str(layout), "--tag", "bad", "--file", str(src), "--cmd", "x"]) == 1
    assert "error:" in capsys.readouterr().err


def test_keyless_sign(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layout, digest = _build(tmp_path, capsys)
    instance = tmp_path / "instance"
    assert main(["init", str(instance), "--seed", "oci-cli"]) == 0
    capsys.readouterr()
    assert main(["sign", "--instance", str(instance), f"oci:{layout}:v1"]) == 1
    assert "--identity" in capsys.readouterr().err
    assert main(["sign", "--identity", "alice@example.com", "--instance", str(instance), f"oci:{layout}@{digest}"]) == 0
    capsys.readouterr()
    sigs = list_signatures(OCILayout.open(layout), digest)
    assert len(sigs) == 1
    assert sigs[0].certificate is not None and "BEGIN CERTIFICATE" in sigs[0].certificate
    assert sigs[0].rekor_bundle is not None
    base = ["verify", "--instance", str(instance), "--certificate-oidc-issuer-regexp", ".*"]
    assert main([*base, "--certificate-identity", "alice@example.com", "--steps", f"oci:{layout}:v1"]) == 0
    captured = capsys.readouterr()
    assert "keyless.verify" in captured.out and "certificate was verified" in captured.err
    assert main([*base, "--certificate-identity", "mallory@example.com", f"oci:{layout}:v1"]) == 1
    assert "keyless.verify" in capsys.readouterr().err
    # the fixes apply to keyless verification too
    alice = [*base, "--certificate-identity", "alice@example.com"]
    assert main([*alice, "--check-docker-reference", f"oci:{layout}:v1"]) == 0
    capsys.readouterr()
    assert main([*alice, "--docker-reference", "localhost/prod", f"oci:{layout}:v1"]) == 1
    assert "payload.docker_reference" in capsys.readouterr().err
    assert main([*alice, "--require-bundle-format", f"oci:{layout}:v1"]) == 1
    assert "a Sigstore bundle refers to the image" in capsys.readouterr().err
    assert main(["verify", "--instance", str(instance), f"oci:{layout}:v1"]) == 1
    assert "--certificate-identity" in capsys.readouterr().err


def test_verify_key_with_log_trusted_root_and_fixes(tmp_path: Path, keys: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from labkit.verify.trustroot import TrustedRoot

    layout, digest = _build(tmp_path, capsys)
    log = tmp_path / "log"
    assert main(["sign", "--key", f"{keys}.key", "--tlog-dir", str(log), "--new-bundle-format",
                 f"oci:{layout}@{digest}"]) == 0
    capsys.readouterr()
    root = tmp_path / "log_root.json"
    assert main(["log", "trusted-root", "--dir", str(log), "-o", str(root)]) == 0
    capsys.readouterr()
    parsed = TrustedRoot.from_json(root.read_bytes())
    assert len(parsed.tlogs) == 1 and parsed.tlogs[0].base_url == "https://labkit.local"
    from sigstore.models import TrustedRoot as SigstoreTrustedRoot

    SigstoreTrustedRoot.from_file(str(root))  # sigstore-python reads it too
    assert main(["log", "trusted-root", "--dir", str(log)]) == 0
    assert capsys.readouterr().out.encode() == root.read_bytes()  # stdout and -o: the same bytes
    # the SET is checked: no --insecure-ignore-tlog needed
    base = ["verify", "--key", f"{keys}.pub", "--trusted-root", str(root)]
    assert main([*base, "--steps", f"oci:{layout}:v1"]) == 0
    captured = capsys.readouterr()
    assert "passed  [sig[0]" in captured.out and "tlog.inclusion_promise" in captured.out
    assert "transparency log was verified offline" in captured.err and "WARNING" not in captured.err
    # docker-reference: labkit sign wrote the layout's identity, which is the default expected one
    assert main([*base, "--check-docker-reference", f"oci:{layout}:v1"]) == 0
    assert "docker-reference was checked to be localhost/layout" in capsys.readouterr().err
    assert main([*base, "--docker-reference", "localhost/prod", f"oci:{layout}:v1"]) == 1
    assert "payload.docker_reference" in capsys.readouterr().err
    # the new format required: the bundle referrer alone, its statement printed
    assert main([*base, "--require-bundle-format", "--check-docker-reference", f"oci:{layout}:v1"]) == 0
    statements = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert statements[0]["subject"][0]["digest"]["sha256"] == digest.split(":")[1]
    # an image with only a legacy .sig: refused, never a fallback
    (tmp_path / "b.txt").write_text("b\n")
    legacy = tmp_path / "legacy"
    assert main(["image", "build", "--layout", str(legacy), "--tag", "v1", "--file", str(tmp_path / "b.txt")]) == 0
    capsys.readouterr()
    assert main(["sign", "--key", f"{keys}.key", "--tlog-dir", str(log), f"oci:{legacy}:v1"]) == 0
    capsys.readouterr()
    assert main([*base, f"oci:{legacy}:v1"]) == 0
    capsys.readouterr()
    assert main([*base, "--require-bundle-format", f"oci:{legacy}:v1"]) == 1
    assert "a Sigstore bundle refers to the image" in capsys.readouterr().err
    # a root that does not name this log: refused
    other = tmp_path / "other_root.json"
    from labkit.tlog.store import TransparencyLog

    TransparencyLog.open(tmp_path / "other-log").close()  # `log trusted-root` reads a log, never creates one
    assert main(["log", "trusted-root", "--dir", str(tmp_path / "other-log"), "-o", str(other)]) == 0
    capsys.readouterr()
    assert main(["verify", "--key", f"{keys}.pub", "--trusted-root", str(other), f"oci:{layout}:v1"]) == 1
    assert "error: image sha256:" in capsys.readouterr().err


def test_verify_key_against_instance_log(tmp_path: Path, keys: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layout, digest = _build(tmp_path, capsys)
    instance = tmp_path / "instance"
    assert main(["init", str(instance), "--seed", "oci-cli"]) == 0
    capsys.readouterr()
    # signed with a key, logged in the instance's log; verified with --instance (its trusted root)
    from labkit.keyfile import load_private_key
    from labkit.keyless.instance import Instance
    from labkit.oci.signatures import sign_image

    store = OCILayout.open(layout)
    with Instance.open(instance) as inst:
        sign_image(store, store.resolve(digest), load_private_key(f"{keys}.key"), docker_reference="localhost/layout",
                   tlog=inst.tlog)
    assert main(["verify", "--key", f"{keys}.pub", "--instance", str(instance), "--steps", f"oci:{layout}:v1"]) == 0
    assert "passed  [sig[0]" in capsys.readouterr().out
    # the instance's root does not name the --tlog-dir log of labkit sign
    other = tmp_path / "other"
    build = ["image", "build", "--layout", str(other), "--tag", "v1", "--file", str(tmp_path / "app.py")]
    assert main(build) == 0
    assert main(["sign", "--key", f"{keys}.key", "--tlog-dir", str(tmp_path / "log"), f"oci:{other}:v1"]) == 0
    capsys.readouterr()
    assert main(["verify", "--key", f"{keys}.pub", "--instance", str(instance), "--steps", f"oci:{other}:v1"]) == 1
    assert "tlog.log_id" in capsys.readouterr().out
