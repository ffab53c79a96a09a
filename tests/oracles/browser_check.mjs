// Opens an HTML page in a real browser (headless Chromium from Debian's chromium package, driven
// by npm playwright-core) and checks what a reader would see: no console errors, no page errors,
// no failed requests, every <img> loaded (complete, naturalWidth > 0) and at least MIN images.
// usage: node browser_check.mjs PAGE.html [--min-images N] [--chromium PATH]
import path from 'node:path';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const page = args[0];
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const minImages = Number(opt('--min-images', '1'));
const executablePath = opt('--chromium', process.env.NML_CHROMIUM || '/usr/bin/chromium');
if (!page) {
  console.error('usage: node browser_check.mjs PAGE.html [--min-images N] [--chromium PATH]');
  process.exit(2);
}
const problems = [];
const browser = await chromium.launch({
  executablePath, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const tab = await browser.newPage();
  tab.on('console', m => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  tab.on('pageerror', e => problems.push(`page error: ${e.message}`));
  tab.on('requestfailed', r => problems.push(`request failed: ${r.url().slice(0, 80)} ` +
                                              `(${r.failure()?.errorText})`));
  const url = 'file://' + path.resolve(page);
  const response = await tab.goto(url, { waitUntil: 'load', timeout: 60000 });
  if (response && !response.ok()) problems.push(`loading ${url}: status ${response.status()}`);
  const images = await tab.$$eval('img', imgs => imgs.map(i => ({
    alt: i.alt, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight,
  })));
  images.forEach((im, k) => {
    if (!im.complete || !(im.w > 0) || !(im.h > 0))
      problems.push(`image ${k + 1} (${im.alt}): not loaded (${im.w}x${im.h})`);
  });
  if (images.length < minImages) problems.push(`${images.length} images, at least ${minImages} expected`);
  const title = await tab.title();
  for (const p of problems) console.log(`FAIL ${p}`);
  console.log(`${page}: "${title}", ${images.length} images loaded in Chromium ` +
              `${browser.version()}, ${problems.length} problems`);
} finally {
  await browser.close();
}
process.exit(problems.length ? 1 : 0);
