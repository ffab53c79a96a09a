// Runs an ONNX model with ONNX Runtime (CPU) — the independent reference for nanoml's ONNX path.
// usage: node ort_run.mjs MODEL.onnx OUT_DIR NAME=INPUT.npy [NAME=INPUT.npy ...]
// Writes OUT_DIR/<output name>.npy (float32 or int64/int32/uint8/int8 as produced) and prints
// one line per output: name, dims.
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { readNpy, writeNpy } from './npy.mjs';

const [model, outDir, ...pairs] = process.argv.slice(2);
if (!model || !outDir) {
  console.error('usage: node ort_run.mjs MODEL.onnx OUT_DIR NAME=INPUT.npy ...');
  process.exit(2);
}
const feeds = {};
for (const p of pairs) {
  const eq = p.indexOf('=');
  const name = p.slice(0, eq);
  const arr = readNpy(p.slice(eq + 1));
  feeds[name] = new ort.Tensor(arr.type, arr.data, arr.shape);
}
const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
const results = await session.run(feeds);
fs.mkdirSync(outDir, { recursive: true });
for (const [name, t] of Object.entries(results)) {
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  writeNpy(path.join(outDir, safe + '.npy'), t.type, t.dims, t.data);
  console.log(`${name} ${t.dims.join('x')}`);
}
