#!/usr/bin/env node
// Compares the time of a pull with `skopeo copy` to a directory, from the same local registry
// (Debian's docker-registry on 127.0.0.1), for the same image. tscompose's pull also unpacks the
// layers (skopeo's dir: copy does not), so the table shows both sides as they are used.
//
//   npm run build && sudo node bench/pull.mjs [--runs N] [--mb SIZE]
//
// The image: the busybox layer plus three layers of SIZE/3 MiB of incompressible data.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { writeOciImage, busyboxEntries } = await import(path.join(here, '../scripts/build-busybox-image.mjs'));
const { ImageStore } = await import(path.join(here, '../dist/images/index.js'));

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const runs = opt('--runs', 5);
const mb = opt('--mb', 48);

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tsc-bench-pull-'));
let registry;
try {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  writeFileSync(
    path.join(tmp, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${tmp}/storage\nhttp:\n  addr: ${host}\n`,
  );
  registry = spawn('/usr/bin/docker-registry', ['serve', path.join(tmp, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://${host}/v2/`)).ok) break;
    } catch {
      /* starting */
    }
    if (i > 300) throw new Error('docker-registry did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const per = Math.floor((mb * 1024 * 1024) / 3);
  const layout = path.join(tmp, 'layout');
  writeOciImage(layout, {
    ref: 'docker.io/tsc/bench:latest',
    layers: [busyboxEntries(), ...[0, 1, 2].map((i) => [{ name: `data${i}.bin`, type: 'file', data: randomBytes(per) }])],
  });
  execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:latest`, `docker://${host}/tsc/bench:latest`]);

  const time = async (fn) => {
    const t = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ours = [];
  const skopeo = [];
  for (let r = 0; r < runs; r++) {
    const root = path.join(tmp, `store-${r}`);
    ours.push(await time(() => new ImageStore(root).pull(`${host}/tsc/bench:latest`)));
    rmSync(root, { recursive: true, force: true });
    const dir = path.join(tmp, `skopeo-${r}`);
    skopeo.push(
      await time(
        () =>
          new Promise((resolve, reject) => {
            const c = spawn('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${host}/tsc/bench:latest`, `dir:${dir}`], { stdio: 'inherit' });
            c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`skopeo exited ${code}`))));
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
  const m1 = median(ours);
  const m2 = median(skopeo);
  const rows = [
    ['tool', 'median ms', 'min ms', 'max ms', 'ratio'],
    ['tscompose pull (download + verify + unpack)', m1.toFixed(0), Math.min(...ours).toFixed(0), Math.max(...ours).toFixed(0), (m1 / m2).toFixed(2)],
    ['skopeo copy docker:// dir: (download only)', m2.toFixed(0), Math.min(...skopeo).toFixed(0), Math.max(...skopeo).toFixed(0), '1.00'],
  ];
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(`pull of a 4-layer image (${mb} MiB of data + busybox) from ${host}, ${runs} runs each`);
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
} finally {
  registry?.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
