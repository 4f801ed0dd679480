"""Benchmark: admission-policy evaluation of 1,000 images against 20 policies.

    .venv/bin/python benchmarks/bench_policy.py           # 1,000 images x 20 policies
    .venv/bin/python benchmarks/bench_policy.py --quick   # 100 images

Prints one JSON object per line. The images carry real ECDSA P-256
signatures over cosign simple-signing payloads (right key, wrong key, or
none) and some keyless signatures and SLSA attestations; policies are
ClusterImagePolicy documents with globs, key and keyless authorities and an
attestation requirement. The peer is the straightforward evaluator a user
would write first: every policy re-verifies every signature with every key
(no per-key cache) and matches globs with `fnmatch` (which gets ``*`` wrong
for images: it crosses ``/``). Ratios compare the two in the same run.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labkit.keys import generate  # noqa: E402
from labkit.lab import Lab  # noqa: E402
from labkit.policy import StaticEvidenceSource, evaluate, load_policies  # noqa: E402
from labkit.policy.evaluate import Evidence  # noqa: E402
from labkit.policy.glob import normalize_image  # noqa: E402
from tests.policy.helpers import attestation, indent, signature  # noqa: E402

N_POLICIES = 20
ISSUER = "https://oidc.lab.test"
PROV = {"buildDefinition": {"buildType": "https://labkit.dev/b/v1", "externalParameters": {}},
        "runDetails": {"builder": {"id": "https://labkit.dev/builder"}}}


def build(n_images: int) -> tuple[str, list[str], StaticEvidenceSource, float]:
    lab = Lab(seed="bench-policy")
    keys = [generate("ecdsa-p256", lab=lab, label=f"team{i}") for i in range(N_POLICIES)]
    wrong = generate("ecdsa-p256", lab=lab, label="attacker")
    ci = generate("ecdsa-p256", lab=lab, label="ci")
    docs = []
    for i in range(N_POLICIES):
        auth = f"""
  - name: team{i}-key
    key:
      data: |
{indent(keys[i].public_key().pem().decode(), 8)}
"""
        if i % 4 == 1:
            auth += f"""
  - name: ci
    keyless:
      identities: [{{issuer: "{ISSUER}", subjectRegExp: "^ci@lab[.]test$"}}]
"""
        if i % 5 == 2:
            auth = auth.replace(
                "    key:\n", "    attestations: [{name: prov, predicateType: slsaprovenance1}]\n    key:\n", 1
            )
        glob = f"registry.lab/team{i}/*" if i % 2 else f"registry.lab/team{i}/**"
        docs.append(f"""apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {{name: team{i}}}
spec:
  images: [{{glob: "{glob}"}}]
  authorities:{auth}""")
    text = "\n---\n".join(docs)
    t0 = time.perf_counter()
    source = StaticEvidenceSource()
    images = []
    for j in range(n_images):
        team = j % N_POLICIES
        nested = "nested/" if j % 13 == 0 else ""  # '*' must not cross '/': these fall outside odd teams' globs
        image = f"registry.lab/team{team}/{nested}app{j}:v{j % 7}"
        images.append(image)
        kind = j % 10
        if kind < 6:
            source.add(image, signature(image, keys[team]))
        elif kind == 6:
            source.add(image, signature(image, wrong))
        elif kind == 7:
            source.add(image, signature(image, ci, issuer=ISSUER, subject="ci@lab.test"))
        elif kind == 8:
            source.add(image, signature(image, keys[team]))
            source.add(image, attestation(image, keys[team], "https://slsa.dev/provenance/v1", PROV))
        # kind 9: unsigned
    return text, images, source, time.perf_counter() - t0


def naive(policies: list[Any], images: list[str], source: StaticEvidenceSource) -> list[bool]:
    """The first evaluator one writes: fnmatch globs, no cache, verify everything every time."""
    out = []
    for image in images:
        full = normalize_image(image).name()
        matching = [p for p in policies if any(fnmatch.fnmatchcase(full, g) for g in p.patterns)]
        ok = bool(matching)
        for p in matching:
            passed = False
            for a in p.groups[0].authorities:
                for ev in source.evidence(image):
                    fresh = Evidence(ev.kind, ev.signed_bytes, ev.signature, ev.issuer, ev.subject,
                                     ev.certificate_key, ev.predicate_type, ev.predicate)
                    if a.keys and any(fresh.signed_by(k) for k in a.keys):
                        passed = True
                    if a.identities and fresh.certificate_key is not None and fresh.signed_by(fresh.certificate_key):
                        passed = passed or any(i.matches(ev.issuer, ev.subject) for i in a.identities)
            ok = ok and passed
        out.append(ok)
    return out


def end_to_end(n: int) -> dict[str, Any]:
    """`n` images really stored in an OCI layout, signed cosign-v3 style and logged; full verification."""
    import tempfile

    from labkit.attest import sign_image_bundle
    from labkit.keyless.instance import Instance
    from labkit.oci.builder import build_image
    from labkit.oci.layout import OCILayout
    from labkit.policy.sources import OCIEvidenceSource

    with tempfile.TemporaryDirectory() as tmp:
        inst = Instance.create(Path(tmp) / "inst", seed="bench-e2e")
        assert inst.lab is not None
        key = generate("ecdsa-p256", lab=inst.lab, label="release")
        store = OCILayout.init(Path(tmp) / "oci")
        repo = "registry.lab/bench/app"
        images = []
        for j in range(n):
            built = build_image(store, {"n": str(j)}, tag=f"v{j}")
            if j % 4:
                sign_image_bundle(store, built.descriptor, key, docker_reference=repo, instance=inst)
            images.append(f"{repo}:v{j}")
        text = f"""apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {{name: e2e}}
spec:
  images: [{{glob: "registry.lab/bench/**"}}]
  authorities:
  - key:
      data: |
{indent(key.public_key().pem().decode(), 8)}
"""
        source = OCIEvidenceSource(inst.trusted_root_json(), {repo: store})
        t0 = time.perf_counter()
        ds = evaluate(load_policies(text), images, source)
        elapsed = time.perf_counter() - t0
        inst.close()
    return {"bench": "evaluate_end_to_end", "images": n, "s": round(elapsed, 3),
            "ms_per_image": round(elapsed / n * 1000, 2), "allowed": sum(d.allowed for d in ds),
            "note": "OCI layout, bundle referrers, full labkit.verify per signature (log proof, checkpoint)"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100 images instead of 1,000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = 100 if args.quick else 1000
    text, images, source, setup_s = build(n)
    print(json.dumps({"bench": "setup", "images": n, "policies": N_POLICIES, "signing_s": round(setup_s, 3)}))

    policies = load_policies(text)  # warm-up: first use imports the predicate registry and jsonschema
    t0 = time.perf_counter()
    for _ in range(20):
        policies = load_policies(text)
    parse_ms = (time.perf_counter() - t0) / 20 * 1000
    print(json.dumps({"bench": "parse", "policies": len(policies), "ms_per_file": round(parse_ms, 2)}))

    labkit_runs, naive_runs = [], []
    decisions = []
    naive_decisions: list[bool] = []
    for _ in range(args.repeat):
        _, images2, fresh_source, _ = (text, images, source, 0.0)
        for evs in fresh_source.items.values():  # drop caches: every run starts cold
            for ev in evs:
                ev._cache.clear()
        parsed = load_policies(text)
        t0 = time.perf_counter()
        decisions = evaluate(parsed, images2, fresh_source)
        labkit_runs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        naive_decisions = naive(parsed, images2, fresh_source)
        naive_runs.append(time.perf_counter() - t0)
    allowed = sum(d.allowed for d in decisions)
    lk, nv = statistics.median(labkit_runs), statistics.median(naive_runs)
    print(json.dumps({"bench": "evaluate", "tool": "labkit", "images": n, "policies": N_POLICIES,
                      "median_s": round(lk, 4), "images_per_s": round(n / lk, 1), "allowed": allowed,
                      "denied": n - allowed}))
    print(json.dumps({"bench": "evaluate", "tool": "naive (fnmatch, no cache)", "images": n,
                      "median_s": round(nv, 4), "images_per_s": round(n / nv, 1)}))
    wrong = sum(a != d.allowed for a, d in zip(naive_decisions, decisions, strict=False))
    print(json.dumps({"bench": "ratio", "naive_over_labkit": round(nv / lk, 2),
                      "naive_decisions_that_differ": wrong}))
    print(json.dumps(end_to_end(10 if args.quick else 100)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
