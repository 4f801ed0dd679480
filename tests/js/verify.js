// sigstore-js as an outside judge: verify a bundle against a trusted root, offline.
// usage: node verify.js BUNDLE ARTIFACT TRUSTED_ROOT IDENTITY ISSUER [TLOG_THRESHOLD] [TIMESTAMP_THRESHOLD]
// Prints "OK <n> timestamps" and exits 0 when verified; prints the error and exits 1 otherwise.
'use strict';
const fs = require('fs');
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

const [bundlePath, artifactPath, rootPath, identity, issuer, tlog, stamps] = process.argv.slice(2);
try {
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const root = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootPath, 'utf8')));
  const options = { ctlogThreshold: 1, tlogThreshold: Number(tlog ?? 1), timestampThreshold: Number(stamps ?? 1) };
  const verifier = new Verifier(toTrustMaterial(root), options);
  const entity = toSignedEntity(bundle, fs.readFileSync(artifactPath));
  verifier.verify(entity, { subjectAlternativeName: identity, extensions: { issuer } });
  console.log(`OK ${entity.timestamps.length} timestamps`);
} catch (err) {
  console.log(`FAIL ${err.name}: ${err.code ?? ''} ${err.message}`);
  process.exit(1);
}
