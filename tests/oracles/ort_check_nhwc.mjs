// Checks one nanoml inference of an imported ONNX model against ONNX Runtime (CPU).
// usage: node ort_check_nhwc.mjs MODEL.onnx INPUT_NHWC.npy NANOML_OUTPUT_NHWC.npy [TOLERANCE]
// The input and output are what `nanoml detect --save-input/--save-output` wrote for the
// imported .tflite (rank-4 tensors in NHWC); ONNX Runtime runs the original model on the same
// input transposed to NCHW, and its first output is transposed back to NHWC for the comparison.
// Prints the largest absolute difference and the output's largest magnitude; exits 1 when the
// difference exceeds TOLERANCE (default 1e-3, absolute).
import ort from 'onnxruntime-node';
import { readNpy } from './npy.mjs';

const [model, inFile, outFile, tolArg] = process.argv.slice(2);
if (!model || !inFile || !outFile) {
  console.error('usage: node ort_check_nhwc.mjs MODEL.onnx INPUT_NHWC.npy OUTPUT_NHWC.npy [TOL]');
  process.exit(2);
}
const tol = tolArg === undefined ? 1e-3 : Number(tolArg);

function nhwcToNchw(a) {
  const [n, h, w, c] = a.shape;
  const out = new Float32Array(a.data.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++)
          out[((b * c + k) * h + y) * w + x] = a.data[((b * h + y) * w + x) * c + k];
  return { shape: [n, c, h, w], data: out };
}

const input = readNpy(inFile);
const mine = readNpy(outFile);
if (input.type !== 'float32' || input.shape.length !== 4 || mine.type !== 'float32') {
  console.error('ort_check_nhwc: float32 rank-4 input and float32 output expected');
  process.exit(2);
}
const x = nhwcToNchw(input);
const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
const result = await session.run({
  [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape),
});
const ref = result[session.outputNames[0]];
const [n, c, h, w] = ref.dims;
if (mine.shape.join('x') !== [n, h, w, c].join('x')) {
  console.error(`ort_check_nhwc: nanoml output ${mine.shape.join('x')}, ONNX Runtime ` +
                `${ref.dims.join('x')} (NCHW)`);
  process.exit(1);
}
let maxDiff = 0, maxAbs = 0;
for (let b = 0; b < n; b++)
  for (let k = 0; k < c; k++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        const r = ref.data[((b * c + k) * h + y) * w + xx];
        const m = mine.data[((b * h + y) * w + xx) * c + k];
        maxDiff = Math.max(maxDiff, Math.abs(r - m));
        maxAbs = Math.max(maxAbs, Math.abs(r));
      }
const ok = maxDiff <= tol;
console.log(`ONNX Runtime ${ort.env.versions?.common ?? ''} vs nanoml: ${ref.dims.join('x')} outputs, ` +
            `max |difference| ${maxDiff.toExponential(2)} (largest |output| ${maxAbs.toFixed(3)}, ` +
            `tolerance ${tol}): ${ok ? 'match' : 'MISMATCH'}`);
process.exit(ok ? 0 : 1);
