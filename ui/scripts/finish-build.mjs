// After `vite build`: writes `<file>.gz` (gzip, level 9, no timestamp: the same bytes on every
// machine) beside each text file of dist/ that compresses, for the server to send to clients that
// accept gzip (src/http/embed_ui.cmake embeds both), and prints the sizes.
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url).pathname;
const compressible = /\.(html|js|css|svg|json|txt)$/;

function walk(dir) {
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
}

for (const file of walk(dist)) if (file.endsWith('.gz')) unlinkSync(file);

let raw = 0;
let sent = 0;
for (const file of walk(dist).sort()) {
  const body = readFileSync(file);
  raw += body.length;
  let size = body.length;
  if (compressible.test(file)) {
    const gz = gzipSync(body, { level: 9 });
    if (gz.length < body.length) {
      writeFileSync(file + '.gz', gz);
      size = gz.length;
    }
  }
  sent += size;
  console.log(
    `${relative(dist, file).padEnd(40)} ${String(body.length).padStart(8)} B  ${String(size).padStart(8)} B sent`,
  );
}
console.log(`total: ${raw} B, ${sent} B sent with gzip (${(sent / 1024).toFixed(1)} KiB)`);
