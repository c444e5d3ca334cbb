#!/usr/bin/env node
// Builds an OCI image (image-layout directory or archive) from the host's /bin/busybox
// (Debian's busybox-static), offline and with nothing but Node's built-ins, so it can run before
// `npm ci`. One layer: /bin/busybox, a symlink per applet, /etc/passwd (root, app, nobody) and
// /etc/group. The output is reproducible: fixed mtimes, sorted entries.
//
//   node scripts/build-busybox-image.mjs [OUT] [--tag REF] [--layout]
//     OUT       archive file to write (default: busybox-oci.tar); with --layout, a directory
//     --tag     reference stored in the index (default: docker.io/library/busybox:latest)
//
// The functions are exported for the test fixtures (test/support/images.ts).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export const BUSYBOX = '/bin/busybox';
export const FIXED_MTIME = 1700000000;

// ---------------------------------------------------------------- tar writer

function octal(n, len) {
  const s = n.toString(8);
  if (s.length > len - 1) throw new Error(`tar: number ${n} does not fit in ${len} bytes`);
  return s.padStart(len - 1, '0') + '\0';
}

function paxRecord(key, value) {
  const v = Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'utf8');
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), v, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'ascii'), body]);
}

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6', pax: 'x' };

function header(e) {
  const h = Buffer.alloc(512);
  h.write(e.name.slice(0, 100), 0, 100, 'utf8');
  h.write(octal(e.mode ?? 0o644, 8), 100, 'ascii');
  h.write(octal(e.uid ?? 0, 8), 108, 'ascii');
  h.write(octal(e.gid ?? 0, 8), 116, 'ascii');
  h.write(octal(e.size ?? 0, 12), 124, 'ascii');
  h.write(octal(Math.floor(e.mtime ?? FIXED_MTIME), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(TYPEFLAG[e.type], 156, 'ascii');
  h.write((e.linkname ?? '').slice(0, 100), 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'ascii');
  h.write(e.uid ? '' : 'root', 265, 'ascii');
  h.write(e.gid ? '' : 'root', 297, 'ascii');
  h.write(octal(e.devmajor ?? 0, 8), 329, 'ascii');
  h.write(octal(e.devminor ?? 0, 8), 337, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

const pad = (n) => Buffer.alloc((512 - (n % 512)) % 512);

/**
 * Entries: { name, type: 'file'|'dir'|'symlink'|'hardlink'|'char'|'block'|'fifo', mode, uid, gid,
 * mtime, data (Buffer|string, files), linkname, devmajor, devminor, xattrs: {name: value} }.
 * Long names and xattrs go in pax headers. Names are written as given (so tests can make
 * hostile archives).
 */
export function tarEntries(entries) {
  const out = [];
  for (const e0 of entries) {
    const e = { ...e0 };
    if (e.type === 'dir' && !e.name.endsWith('/')) e.name += '/';
    const data = e.type === 'file' ? (Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '', 'utf8')) : Buffer.alloc(0);
    e.size = data.length;
    const pax = [];
    if (Buffer.byteLength(e.name) > 100) pax.push(paxRecord('path', e.name));
    if (e.linkname && Buffer.byteLength(e.linkname) > 100) pax.push(paxRecord('linkpath', e.linkname));
    for (const [k, v] of Object.entries(e.xattrs ?? {})) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
    if (pax.length) {
      const body = Buffer.concat(pax);
      out.push(header({ name: 'PaxHeader', type: 'pax', size: body.length, mode: 0o644 }), body, pad(body.length));
    }
    out.push(header(e), data, pad(data.length));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

// ---------------------------------------------------------------- busybox rootfs

export function busyboxApplets() {
  return execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => a && a !== 'busybox');
}

export const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
export const GROUP = 'root:x:0:\napp:x:1000:\nextra:x:2000:app\nnogroup:x:65534:\n';

export function busyboxEntries() {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: apt-get install busybox-static`);
  const dirs = ['bin', 'dev', 'etc', 'home', 'home/app', 'proc', 'root', 'sbin', 'sys', 'tmp', 'usr', 'usr/bin', 'var'];
  const entries = dirs.map((d) => ({
    name: d,
    type: 'dir',
    mode: d === 'tmp' ? 0o1777 : d === 'root' ? 0o700 : 0o755,
    ...(d === 'home/app' ? { uid: 1000, gid: 1000 } : {}),
  }));
  entries.push({ name: 'bin/busybox', type: 'file', mode: 0o755, data: readFileSync(BUSYBOX) });
  for (const a of busyboxApplets().sort()) entries.push({ name: `bin/${a}`, type: 'symlink', mode: 0o777, linkname: 'busybox' });
  entries.push({ name: 'etc/passwd', type: 'file', mode: 0o644, data: PASSWD });
  entries.push({ name: 'etc/group', type: 'file', mode: 0o644, data: GROUP });
  return entries;
}

// ---------------------------------------------------------------- OCI image layout

const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export function hostArch() {
  return { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' }[process.arch] ?? process.arch;
}

function putBlob(dir, bytes) {
  const d = sha(bytes);
  const p = path.join(dir, 'blobs', 'sha256', d.slice(7));
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, bytes);
  return { digest: d, size: bytes.length };
}

/**
 * Writes one image into an OCI image-layout directory (adding to its index.json).
 * image: { ref: 'docker.io/library/busybox:latest', layers: [entries, ...] (bottom first),
 *          gzip: true, config: {Cmd, Env, ...} }. Returns { manifestDigest, configDigest, diffIds }.
 */
export function writeOciImage(dir, image) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const gzip = image.gzip ?? true;
  const diffIds = [];
  const layerDescs = [];
  for (const entries of image.layers) {
    const tar = Buffer.isBuffer(entries) ? entries : tarEntries(entries);
    diffIds.push(sha(tar));
    const blob = gzip ? gzipSync(tar, { level: 6 }) : tar;
    const { digest, size } = putBlob(dir, blob);
    layerDescs.push({
      mediaType: gzip ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar',
      digest,
      size,
    });
  }
  const created = new Date(FIXED_MTIME * 1000).toISOString();
  const config = {
    created,
    architecture: image.architecture ?? hostArch(),
    ...(image.variant ? { variant: image.variant } : {}),
    os: 'linux',
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['sh'],
      ...(image.config ?? {}),
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map(() => ({ created, created_by: 'build-busybox-image.mjs' })),
  };
  const cfg = putBlob(dir, Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
    layers: layerDescs,
  };
  const man = putBlob(dir, Buffer.from(JSON.stringify(manifest)));
  const indexPath = path.join(dir, 'index.json');
  const index = existsSync(indexPath)
    ? JSON.parse(readFileSync(indexPath, 'utf8'))
    : { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] };
  const tag = image.ref.slice(image.ref.lastIndexOf(':') + 1);
  index.manifests.push({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    ...man,
    annotations: { 'io.containerd.image.name': image.ref, 'org.opencontainers.image.ref.name': tag },
  });
  writeFileSync(indexPath, JSON.stringify(index));
  return { manifestDigest: man.digest, configDigest: cfg.digest, diffIds, layers: layerDescs };
}

/** Packs a directory (an OCI layout) into a tar archive, entries sorted, like `oci-archive:`. */
export function packDirectory(dir, outFile) {
  const entries = [];
  const walk = (rel) => {
    for (const n of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const st = statSync(path.join(dir, r));
      if (st.isDirectory()) {
        entries.push({ name: r, type: 'dir', mode: 0o755 });
        walk(r);
      } else entries.push({ name: r, type: 'file', mode: 0o644, data: readFileSync(path.join(dir, r)) });
    }
  };
  walk('');
  writeFileSync(outFile, tarEntries(entries));
  return outFile;
}

export function buildBusyboxLayout(dir, ref = 'docker.io/library/busybox:latest') {
  return writeOciImage(dir, { ref, layers: [busyboxEntries()] });
}

// ---------------------------------------------------------------- command line

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let out = 'busybox-oci.tar';
  let ref = 'docker.io/library/busybox:latest';
  let layout = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--tag') ref = args[++i];
    else if (args[i] === '--layout') layout = true;
    else if (args[i] === '-h' || args[i] === '--help') {
      console.log('usage: node scripts/build-busybox-image.mjs [OUT] [--tag REF] [--layout]');
      process.exit(0);
    } else out = args[i];
  }
  try {
    if (layout) {
      const r = buildBusyboxLayout(out, ref);
      console.log(`wrote OCI layout ${out} (${ref}, manifest ${r.manifestDigest})`);
    } else {
      const tmp = `${out}.layout.${process.pid}`;
      const r = buildBusyboxLayout(tmp, ref);
      packDirectory(tmp, out);
      execFileSync('rm', ['-rf', tmp]);
      console.log(`wrote OCI archive ${out} (${ref}, manifest ${r.manifestDigest})`);
    }
  } catch (e) {
    console.error(`build-busybox-image: ${e.message}`);
    process.exit(1);
  }
}
