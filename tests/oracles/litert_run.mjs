// Runs a .tflite model with LiteRT (Google's TFLite runtime, WASM build, CPU/XNNPack) — the
// independent reference for nanoml's .tflite writer and runtime.
// usage: node litert_run.mjs MODEL.tflite OUT_DIR [INPUT0.npy INPUT1.npy ...]
// Inputs are given in the model's input order. Writes OUT_DIR/out<i>.npy for output i and prints
// one line per output: index, name, dtype, dims.
//
// @litertjs/core targets browsers and workers. In Node 20 it runs once the globals its loader
// expects exist: `self` (the global scope), `importScripts` (runs the Emscripten loader script
// in the global scope) and `require`/`__dirname` (which the Emscripten Node branch uses to read
// the .wasm next to the script). Everything is read from node_modules; no network.
// Its JS tensor layer only knows float32/int32/uint8, so a copy of the module with int8, int16
// and int64 added to that table is imported from a temporary directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readNpy, writeNpy } from './npy.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const coreDir = path.join(here, 'node_modules', '@litertjs', 'core');
const wasmDir = path.join(coreDir, 'wasm');
const utilsEntry = path.join(here, 'node_modules', '@litertjs', 'wasm-utils', 'dist', 'index.js');

function usage(msg) {
  if (msg) console.error(`litert_run: ${msg}`);
  console.error('usage: node litert_run.mjs MODEL.tflite OUT_DIR [INPUT0.npy ...]');
  process.exit(2);
}

// LiteRT logs INFO/WARNING lines for every environment it creates; keep stderr for real errors
// unless NML_LITERT_VERBOSE is set.
const verbose = !!process.env.NML_LITERT_VERBOSE;
const chatter = /^(INFO|WARNING|VERBOSE): |^Failed to create default WebGPU device/;
function printErr(...args) {
  if (verbose || !chatter.test(String(args[0]))) console.error(...args);
}

function installBrowserGlobals() {
  // Emscripten takes print/printErr from the Module object that LiteRT passes to its factory.
  globalThis.Module = { print: printErr, printErr };
  const warn = console.warn.bind(console);
  console.warn = (...args) => { if (verbose || !chatter.test(String(args[0]))) warn(...args); };
  globalThis.self = globalThis;
  globalThis.require = createRequire(import.meta.url);
  globalThis.__dirname = wasmDir;
  globalThis.importScripts = (url) => {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    vm.runInThisContext(fs.readFileSync(file, 'utf8'), { filename: file });
  };
}

// Imports a copy of @litertjs/core whose dtype table also lists int8, int16 and int64.
async function importPatchedCore(tmpDir) {
  let src = fs.readFileSync(path.join(coreDir, 'dist', 'index.js'), 'utf8');
  const tableStart = 'var DATATYPES = Object.freeze([';
  const utilsImport = 'from "@litertjs/wasm-utils"';
  if (!src.includes(tableStart) || !src.includes(utilsImport))
    throw new Error('@litertjs/core layout changed: cannot add int8 to its dtype table');
  src = src.replace(tableStart, tableStart + `
  { dtype: "int8", typedArrayConstructor: Int8Array, elementType: ElementType.INT8 },
  { dtype: "int16", typedArrayConstructor: Int16Array, elementType: ElementType.INT16 },
  { dtype: "int64", typedArrayConstructor: BigInt64Array, elementType: ElementType.INT64 },`);
  src = src.replace(utilsImport, `from ${JSON.stringify(pathToFileURL(utilsEntry).href)}`);
  const file = path.join(tmpDir, 'litert_core_patched.mjs');
  fs.writeFileSync(file, src);
  return import(pathToFileURL(file).href);
}

async function main() {
  const [modelPath, outDir, ...inputFiles] = process.argv.slice(2);
  if (!modelPath || !outDir) usage();
  if (!fs.existsSync(coreDir)) usage(`${coreDir} missing: run npm ci in tests/oracles`);
  const model = new Uint8Array(fs.readFileSync(modelPath));

  installBrowserGlobals();
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nml-litert-'));
  let core;
  try {
    core = await importPatchedCore(tmpDir);
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  // The directory form lets LiteRT pick the build that this Node's WASM features support.
  await core.loadLiteRt(wasmDir + '/');
  const compiled = await core.loadAndCompile(model, { accelerator: 'wasm' });
  const details = compiled.getInputDetails();
  if (details.length !== inputFiles.length)
    usage(`model has ${details.length} inputs, ${inputFiles.length} .npy files given`);

  const inputs = inputFiles.map((file, i) => {
    const arr = readNpy(file);
    const want = details[i];
    if (arr.type !== want.dtype)
      throw new Error(`${file}: dtype ${arr.type}, input ${i} (${want.name}) is ${want.dtype}`);
    return new core.Tensor(arr.data, arr.shape);
  });
  const outputs = await compiled.run(inputs);
  fs.mkdirSync(outDir, { recursive: true });
  const outDetails = compiled.getOutputDetails();
  outputs.forEach((t, i) => {
    const data = t.toTypedArray();
    const dims = Array.from(outDetails[i].shape);
    writeNpy(path.join(outDir, `out${i}.npy`), outDetails[i].dtype, dims, data);
    console.log(`${i} ${outDetails[i].name} ${outDetails[i].dtype} ${dims.join('x')}`);
    t.delete();
  });
  inputs.forEach((t) => t.delete());
  compiled.delete();
}

main().catch((e) => {
  console.error(`litert_run: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
