// Runs one ONNX model with ONNX Runtime (CPU) over every IN_DIR/in_*.npy, loading the session once.
// usage: node ort_batch.mjs MODEL.onnx IN_DIR OUT_DIR
// Feeds each file to the model's first input and writes the first output to OUT_DIR/out_*.npy
// (same suffix). Prints "N runs" at the end.
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { readNpy, writeNpy } from './npy.mjs';

const [model, inDir, outDir] = process.argv.slice(2);
if (!model || !inDir || !outDir) {
  console.error('usage: node ort_batch.mjs MODEL.onnx IN_DIR OUT_DIR');
  process.exit(2);
}
const session = await ort.InferenceSession.create(model, {
  executionProviders: ['cpu'], intraOpNumThreads: 2,
});
const inputName = session.inputNames[0];
const outputName = session.outputNames[0];
const files = fs.readdirSync(inDir).filter(f => /^in_.*\.npy$/.test(f)).sort();
fs.mkdirSync(outDir, { recursive: true });
for (const f of files) {
  const arr = readNpy(path.join(inDir, f));
  const results = await session.run({ [inputName]: new ort.Tensor(arr.type, arr.data, arr.shape) });
  const t = results[outputName];
  writeNpy(path.join(outDir, f.replace(/^in_/, 'out_')), t.type, t.dims, t.data);
}
console.log(`${files.length} runs`);
