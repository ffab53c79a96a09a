// Checks an HTML report the way a browser would need it, without trusting the code that wrote it:
//   - every <img> is an inline data: URI (no file, no network) whose base64 decodes to a complete
//     PNG (signature, chunk CRCs, IHDR, IDAT inflating to exactly the rows IHDR announces, IEND)
//     or JPEG (SOI, well-formed segments, a frame header with non-zero size, EOI);
//   - no other resource is loaded from anywhere (no <script src>, <link>, <iframe>, url(...));
//   - every <a href> that is not a web address or an anchor names a file or folder that exists
//     (relative to the page's folder).
// usage: node check_report.mjs REPORT.html [--min-images N]
// Prints one line per problem and a summary; exits 1 when there is a problem.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const args = process.argv.slice(2);
const file = args[0];
const minIdx = args.indexOf('--min-images');
const minImages = minIdx >= 0 ? Number(args[minIdx + 1]) : 1;
if (!file) {
  console.error('usage: node check_report.mjs REPORT.html [--min-images N]');
  process.exit(2);
}
const html = fs.readFileSync(file, 'latin1');
const dir = path.dirname(file);
const problems = [];

function crc32(buf) {
  let c, crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function checkPng(b) {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (b.length < 8 || sig.some((v, i) => b[i] !== v)) return 'no PNG signature';
  let off = 8, w = 0, h = 0, depth = 0, colorType = 0, interlace = 0, sawEnd = false;
  const idat = [];
  while (off + 12 <= b.length) {
    const len = b.readUInt32BE(off);
    const type = b.toString('latin1', off + 4, off + 8);
    if (off + 12 + len > b.length) return `chunk ${type} runs past the end`;
    const body = b.subarray(off + 8, off + 8 + len);
    if (crc32(b.subarray(off + 4, off + 8 + len)) !== b.readUInt32BE(off + 8 + len))
      return `chunk ${type}: CRC mismatch`;
    if (type === 'IHDR') {
      w = body.readUInt32BE(0); h = body.readUInt32BE(4);
      depth = body[8]; colorType = body[9]; interlace = body[12];
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') { sawEnd = true; break; }
    off += 12 + len;
  }
  if (!(w > 0 && h > 0)) return `IHDR size ${w}x${h}`;
  if (!sawEnd) return 'no IEND chunk';
  if (interlace !== 0) return null; // rows are not a simple count; CRCs and size suffice
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType];
  if (!channels) return `colour type ${colorType}`;
  const rowBytes = 1 + Math.ceil((w * channels * depth) / 8);
  let raw;
  try { raw = zlib.inflateSync(Buffer.concat(idat)); } catch (e) { return `IDAT: ${e.message}`; }
  if (raw.length !== rowBytes * h) return `IDAT holds ${raw.length} bytes, ${rowBytes * h} expected`;
  for (let y = 0; y < h; y++) if (raw[y * rowBytes] > 4) return `row ${y}: filter ${raw[y * rowBytes]}`;
  return { w, h };
}

function checkJpeg(b) {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return 'no JPEG SOI marker';
  if (b[b.length - 2] !== 0xff || b[b.length - 1] !== 0xd9) return 'no EOI marker at the end';
  let off = 2, size = null, sawScan = false;
  while (off + 4 <= b.length && !sawScan) {
    if (b[off] !== 0xff) return `byte ${off}: marker expected`;
    const m = b[off + 1];
    if (m === 0xff) { off++; continue; }
    const len = b.readUInt16BE(off + 2);
    if (len < 2 || off + 2 + len > b.length) return `segment ${m.toString(16)} runs past the end`;
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc)
      size = { h: b.readUInt16BE(off + 5), w: b.readUInt16BE(off + 7) };
    if (m === 0xda) sawScan = true;
    off += 2 + len;
  }
  if (!size) return 'no frame header (SOF)';
  if (!(size.w > 0 && size.h > 0)) return `frame size ${size.w}x${size.h}`;
  if (!sawScan) return 'no scan (SOS)';
  return size;
}

// <img ...>: the src attribute of each
let images = 0;
for (const m of html.matchAll(/<img\b[^>]*>/gi)) {
  images++;
  const src = /\bsrc="([^"]*)"/i.exec(m[0]);
  const where = `image ${images}`;
  if (!src) { problems.push(`${where}: no src`); continue; }
  const d = /^data:(image\/(?:png|jpeg));base64,([A-Za-z0-9+/]*={0,2})$/.exec(src[1]);
  if (!d) { problems.push(`${where}: not an inline PNG/JPEG data URI: ${src[1].slice(0, 60)}`); continue; }
  if (d[2].length % 4 !== 0) { problems.push(`${where}: base64 length ${d[2].length}`); continue; }
  const bytes = Buffer.from(d[2], 'base64');
  const r = d[1] === 'image/png' ? checkPng(bytes) : checkJpeg(bytes);
  if (typeof r === 'string') problems.push(`${where} (${d[1]}, ${bytes.length} bytes): ${r}`);
}
if (images < minImages) problems.push(`${images} images, at least ${minImages} expected`);

// resources the page would load
for (const re of [/<script\b[^>]*\bsrc=/gi, /<link\b/gi, /<iframe\b/gi, /<object\b/gi,
                  /<embed\b/gi, /url\(/gi, /<source\b/gi]) {
  for (const m of html.matchAll(re)) problems.push(`external resource: ${m[0]}`);
}

// links
let links = 0;
for (const m of html.matchAll(/<a\b[^>]*\bhref="([^"]*)"/gi)) {
  links++;
  const href = m[1].replace(/&amp;/g, '&');
  if (/^(https?:|mailto:|#)/i.test(href)) continue;
  const target = path.resolve(dir, decodeURIComponent(href.split('#')[0]));
  if (!fs.existsSync(target)) problems.push(`link ${href}: ${target} does not exist`);
}

for (const p of problems) console.log(`FAIL ${p}`);
console.log(`${file}: ${images} images, ${links} links, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
