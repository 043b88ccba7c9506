// The initial JavaScript budget: what index.html loads before the first screen (the entry
// and its preloaded chunks), gzipped, must stay at or under 300 KB. Route pages load later.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const BUDGET = 300 * 1024;
const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
let total = 0;
for (const f of files) {
  const size = gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
  total += size;
  console.log(`${(size / 1024).toFixed(1).padStart(8)} KB  ${f}`);
}
console.log(`${(total / 1024).toFixed(1).padStart(8)} KB  initial JavaScript, gzipped (budget ${BUDGET / 1024} KB)`);
if (files.length === 0 || total > BUDGET) {
  console.error(files.length === 0 ? 'no script found in dist/index.html' : 'over budget');
  process.exit(1);
}
