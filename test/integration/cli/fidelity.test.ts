/**
 * Issue 11 ("Compose fidelity"), runtime part: what a realistic stack showed to differ from
 * Docker Compose v2: volume copy-up, failing fast on a dependency that cannot start, ps's JSON,
 * the default hostname, the lock file after down, and links aliases.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lgetxattr } from '../../../src/images/sys.js';
import { CliProject, waitFor } from '../../support/cli.js';
import { archiveOf, busyboxEntries, writeOciImage } from '../../support/images.js';

// each test's projects are brought down and checked for leftovers by test/integration/setup-file.ts
let p: CliProject | undefined;

const noStack = (s: string): void => expect(s).not.toMatch(/\n\s+at /);

/** An image whose /data is owned by uid 999, mode 0700, over three layers (one whiteout). */
function ownedImageArchive(): { archive: string; cleanup: () => void } {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tsc-owned-'));
  const layout = path.join(tmp, 'owned');
  writeOciImage(layout, {
    ref: 'docker.io/tsc/owned:latest',
    layers: [
      busyboxEntries(),
      [
        { name: 'data', type: 'dir', mode: 0o700, uid: 999, gid: 999 },
        { name: 'data/seed.txt', type: 'file', mode: 0o640, uid: 999, gid: 999, data: 'seeded\n', xattrs: { 'user.tsc': 'yes' } },
        { name: 'data/gone.txt', type: 'file', data: 'x' },
        { name: 'data/sub', type: 'dir', mode: 0o750, uid: 999, gid: 999 },
        { name: 'data/sub/deep.txt', type: 'file', data: 'deep\n' },
        { name: 'data/link', type: 'symlink', linkname: 'seed.txt' },
        { name: 'data/hard', type: 'hardlink', linkname: 'data/sub/deep.txt' },
        { name: 'data/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
        { name: 'data/pipe', type: 'fifo', mode: 0o600 },
      ],
      [
        { name: 'data', type: 'dir', mode: 0o700, uid: 999, gid: 999 },
        { name: 'data/.wh.gone.txt', type: 'file', data: '' },
      ],
    ],
  });
  return { archive: archiveOf(layout), cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

describe('volume copy-up', () => {
  it('fills a new named volume from the image (owner, mode, content), once; not binds, not nocopy', async () => {
    const img = ownedImageArchive();
    try {
      p = await CliProject.create('services: {}\n');
      // d mounts a's volume as an external one: it must see the data, not the volume's folder
      p.write(
        'compose.yaml',
        `
services:
  a:
    image: tsc/owned:latest
    command: sleep 3600
    volumes: ["vol:/data", "other:/nope"]
  d:
    image: tsc/owned:latest
    command: sleep 3600
    volumes: ["ext:/data"]
    depends_on: [a]
  e:
    image: tsc/owned:latest
    command: sleep 3600
    volumes: ["crashed:/data"]
  b:
    image: tsc/owned:latest
    command: sleep 3600
    volumes:
      - { type: volume, source: empty, target: /data, volume: { nocopy: true } }
  c:
    image: tsc/owned:latest
    command: sleep 3600
    volumes: ["./bind:/data"]
volumes: { vol: {}, empty: {}, other: {}, crashed: {}, ext: { external: true, name: ${p.name}_vol } }
`,
      );
      mkdirSync(path.join(p.dir, 'bind'));
      await p.ok(['image', 'load', '-i', img.archive]);
      // what a kill in the middle of a copy-up leaves: the marker, an empty _data, a partial copy
      const crashed = path.join(p.root, 'volumes', `${p.name}_crashed`);
      mkdirSync(path.join(crashed, '_data'), { recursive: true });
      mkdirSync(path.join(crashed, '_data.populating', 'sub'), { recursive: true });
      writeFileSync(path.join(crashed, 'populate.pending'), '');
      writeFileSync(path.join(crashed, '_data.populating', 'seed.txt'), 'se');
      await p.ok(['up', '-d']);
      // the next up redid the copy completely
      expect(readdirSync(crashed).sort()).toEqual(['_data']);
      expect(readFileSync(path.join(crashed, '_data', 'seed.txt'), 'utf8')).toBe('seeded\n');
      expect(readdirSync(path.join(crashed, '_data', 'sub'))).toEqual(['deep.txt']);
      expect(lstatSync(path.join(crashed, '_data')).uid).toBe(999);
      const data = (v: string) => path.join(p!.root, 'volumes', `${p!.name}_${v}`, '_data');
      const root = lstatSync(data('vol'));
      expect([root.uid, root.gid, root.mode & 0o7777]).toEqual([999, 999, 0o700]);
      expect(readdirSync(data('vol')).sort()).toEqual(['hard', 'link', 'null', 'pipe', 'seed.txt', 'sub']);
      const dev = lstatSync(path.join(data('vol'), 'null'));
      expect([dev.isCharacterDevice(), dev.rdev, dev.mode & 0o7777]).toEqual([true, lstatSync('/dev/null').rdev, 0o666]);
      expect(lstatSync(path.join(data('vol'), 'pipe')).isFIFO()).toBe(true);
      const seed = lstatSync(path.join(data('vol'), 'seed.txt'));
      expect([seed.uid, seed.mode & 0o7777]).toEqual([999, 0o640]);
      expect(readFileSync(path.join(data('vol'), 'seed.txt'), 'utf8')).toBe('seeded\n');
      expect(lgetxattr(path.join(data('vol'), 'seed.txt'), 'user.tsc')?.toString()).toBe('yes');
      expect(readlinkSync(path.join(data('vol'), 'link'))).toBe('seed.txt');
      expect(lstatSync(path.join(data('vol'), 'hard')).ino).toBe(lstatSync(path.join(data('vol'), 'sub', 'deep.txt')).ino);
      expect(lstatSync(path.join(data('vol'), 'sub')).mode & 0o7777).toBe(0o750);
      // inside, the container sees the same (its user is root, so 0700 is no obstacle)
      expect((await p.ok(['exec', '-T', 'a', 'cat', '/data/seed.txt'])).stdout).toBe('seeded\n');
      expect((await p.ok(['exec', '-T', 'd', 'cat', '/data/seed.txt'])).stdout).toBe('seeded\n');
      // nothing at /nope in the image: the volume stays empty and root's
      expect(readdirSync(data('other'))).toEqual([]);
      expect(lstatSync(data('other')).uid).toBe(0);
      // nocopy, and binds, are never filled
      expect(readdirSync(data('empty'))).toEqual([]);
      expect(readdirSync(path.join(p.dir, 'bind'))).toEqual([]);
      expect(readdirSync(path.dirname(data('vol'))).sort()).toEqual(['_data', 'volume.json']);

      // a volume is populated once: what the user removed stays removed across a recreate
      await p.ok(['exec', '-T', 'a', 'rm', '/data/seed.txt']);
      await p.ok(['up', '-d', '--force-recreate', '--no-deps', '-t', '0', 'a']);
      expect(readdirSync(data('vol')).sort()).toEqual(['hard', 'link', 'null', 'pipe', 'sub']);
      // down keeps it, down -v (the cleanup) removes it
      await p.ok(['down', '-t', '0']);
      expect(existsSync(data('vol'))).toBe(true);
    } finally {
      img.cleanup();
    }
  });
});

describe('dependencies that cannot start', () => {
  it('fail up within seconds: unhealthy, a crash loop under restart: always, a job exiting 3', async () => {
    p = await CliProject.create(`
services:
  sick:
    image: busybox:latest
    command: sh -c 'echo sick-start; sleep 3600'
    restart: always
    healthcheck: { test: ["CMD", "false"], interval: 1s, timeout: 1s, retries: 2 }
  app:
    image: busybox:latest
    command: sleep 3600
    depends_on: { sick: { condition: service_healthy } }
  loop:
    image: busybox:latest
    command: sh -c 'echo crashing now; exit 1'
    restart: always
    healthcheck: { test: ["CMD", "true"], interval: 1s }
  app2:
    image: busybox:latest
    command: sleep 3600
    depends_on: { loop: { condition: service_healthy } }
  job:
    image: busybox:latest
    command: sh -c 'echo job-failed; exit 3'
  after:
    image: busybox:latest
    command: sleep 3600
    depends_on: { job: { condition: service_completed_successfully } }
`);
    let t = Date.now();
    const r1 = await p.run(['up', '-d', 'app']);
    const unhealthyMs = Date.now() - t;
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(new RegExp(`dependency failed to start: container ${p.name}-sick-1 is unhealthy`));
    expect(r1.stderr).toMatch(/state running \(health unhealthy\)/);
    expect(r1.stderr).toMatch(/\| sick-start/);
    noStack(r1.stderr);
    expect(unhealthyMs).toBeLessThan(30_000);

    t = Date.now();
    const r2 = await p.run(['up', '-d', 'app2']);
    const loopMs = Date.now() - t;
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(
      new RegExp(`dependency failed to start: container ${p.name}-loop-1 is restarting in a loop \\(restarted 3 times while waiting, last exit code 1\\)`),
    );
    expect(r2.stderr).toMatch(/\| crashing now/);
    noStack(r2.stderr);
    expect(loopMs).toBeLessThan(30_000);

    t = Date.now();
    const r3 = await p.run(['up', '-d', 'after']);
    const jobMs = Date.now() - t;
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(new RegExp(`service "job" didn't complete successfully: container ${p.name}-job-1 exited with code 3`));
    expect(r3.stderr).toMatch(/\| job-failed/);
    noStack(r3.stderr);
    expect(jobMs).toBeLessThan(30_000);
    console.log(`failed up after: unhealthy ${unhealthyMs} ms, crash loop ${loopMs} ms, job exit 3 ${jobMs} ms`);
  });
});

const PS_KEYS = [
  'Command',
  'CreatedAt',
  'ExitCode',
  'Health',
  'ID',
  'Image',
  'Labels',
  'LocalVolumes',
  'Mounts',
  'Name',
  'Names',
  'Networks',
  'OOMKilled',
  'Pid',
  'Ports',
  'Project',
  'Publishers',
  'RestartCount',
  'RunningFor',
  'Service',
  'Size',
  'State',
  'Status',
];

describe('ps, ids and hostnames as Compose', () => {
  it('ps JSON lines carry Compose 2.21+ fields; the id is random, changes on recreate, and is the hostname', async () => {
    p = await CliProject.create(`
services:
  web:
    image: busybox:latest
    command: sleep 3600
    ports: ["127.0.0.1::80"]
    volumes: ["data:/srv"]
  worker:
    image: busybox:latest
    command: sleep 3600
volumes: { data: {} }
`);
    await p.ok(['up', '-d']);
    const lines = (await p.ok(['ps', '--format', 'json'])).stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    const [web, worker] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(web!)).toEqual(PS_KEYS);
    expect(web).toMatchObject({
      Command: '"sleep 3600"',
      ExitCode: 0,
      Health: '',
      Image: 'busybox:latest',
      LocalVolumes: '1',
      Mounts: `${p.name}_data`.length > 15 ? expect.stringMatching(/…$/) : `${p.name}_data`,
      Name: `${p.name}-web-1`,
      Names: `${p.name}-web-1`,
      Networks: `${p.name}_default`,
      Project: p.name,
      Service: 'web',
      Size: '0B',
      State: 'running',
      Status: expect.stringMatching(/^Up /),
      RunningFor: expect.stringMatching(/ ago$/),
      Publishers: [{ URL: '127.0.0.1', TargetPort: 80, PublishedPort: expect.any(Number), Protocol: 'tcp' }],
      Ports: expect.stringMatching(/^127\.0\.0\.1:\d+->80\/tcp$/),
    });
    expect(web!.ID).toMatch(/^[0-9a-f]{12}$/);
    expect(web!.CreatedAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/);
    expect(web!.Labels).toMatch(new RegExp(`(^|,)com\\.docker\\.compose\\.project=${p.name}(,|$)`));
    expect(web!.Labels).toMatch(/(^|,)com\.docker\.compose\.service=web(,|$)/);
    expect(web!.Labels).toMatch(/(^|,)com\.docker\.compose\.config-hash=[0-9a-f]{64}(,|$)/);
    expect(web!.Labels).toMatch(new RegExp(`(^|,)com\\.docker\\.compose\\.project\\.working_dir=${p.dir}(,|$)`));
    expect(worker).toMatchObject({ Publishers: null, Ports: '', LocalVolumes: '0', Mounts: '' });

    const full = (await p.ok(['ps', '-q', 'web'])).stdout.trim();
    expect(full).toMatch(/^[0-9a-f]{64}$/);
    expect(full.slice(0, 12)).toBe(web!.ID);
    const noTrunc = JSON.parse((await p.ok(['ps', '--no-trunc', '--format', 'json', 'web'])).stdout) as Record<string, unknown>;
    expect([noTrunc.ID, noTrunc.Mounts]).toEqual([full, `${p.name}_data`]);

    // templates
    expect((await p.ok(['ps', '--format', '{{.Name}} {{.State}}'])).stdout).toBe(`${p.name}-web-1 running\n${p.name}-worker-1 running\n`);
    expect((await p.ok(['ps', '--format', '{{json .Publishers}}', 'worker'])).stdout).toBe('null\n');
    expect((await p.ok(['ps', '--format', 'table {{.Service}}\\t{{.ID}}', 'web'])).stdout).toBe(`SERVICE   CONTAINER ID\nweb       ${web!.ID}\n`);
    const bad = await p.run(['ps', '--format', '{{range .}}{{.Name}}{{end}}']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unsupported --format template action "\{\{range \.\}\}"/);
    noStack(bad.stderr);

    // hostname = short id; the service name and the short id resolve from a peer
    expect((await p.ok(['exec', '-T', 'web', 'hostname'])).stdout.trim()).toBe(web!.ID);
    expect((await p.ok(['exec', '-T', 'web', 'sh', '-c', 'echo $HOSTNAME'])).stdout.trim()).toBe(web!.ID);
    const webIp = Object.values(p.addresses(`${p.name}-web-1`))[0]!;
    for (const name of ['web', web!.ID as string]) {
      const look = await waitFor(
        async () => {
          const r = await p!.run(['exec', '-T', 'worker', 'nslookup', name]);
          return r.code === 0 && r.stdout.includes(webIp) ? r : undefined;
        },
        15_000,
        `${name} to resolve`,
      );
      expect(look.stdout).toContain(webIp);
    }

    // a recreated container has a new id
    await p.ok(['up', '-d', '--force-recreate', '-t', '0', 'web']);
    expect((await p.ok(['ps', '-q', 'web'])).stdout.trim()).not.toBe(full);
  });

  it('down removes the project lock file (and the empty project folder)', async () => {
    p = await CliProject.create(`
services:
  one:
    image: busybox:latest
    command: sleep 3600
`);
    const dir = path.join(p.root, 'projects', p.name);
    await p.ok(['up', '-d']);
    expect(existsSync(path.join(dir, 'lock'))).toBe(true);
    await p.ok(['down', '-t', '0']);
    expect(existsSync(path.join(dir, 'lock'))).toBe(false);
    expect(existsSync(dir)).toBe(false);
    // a read-only command on a project that is not up leaves nothing either
    await p.ok(['down']);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('links and shared network namespaces', () => {
  it('an alias resolves to the linked service from the linking service only', async () => {
    p = await CliProject.create(`
services:
  db:
    image: busybox:latest
    command: sleep 3600
  web:
    image: busybox:latest
    command: sleep 3600
    links: ["db:database"]
    depends_on: [db]
  other:
    image: busybox:latest
    command: sleep 3600
    depends_on: [db]
  side:
    image: busybox:latest
    command: sleep 3600
    network_mode: "service:db"
    depends_on: [db]
`);
    await p.ok(['up', '-d']);
    const dbIp = Object.values(p.addresses(`${p.name}-db-1`))[0]!;
    const look = await waitFor(
      async () => {
        const r = await p!.run(['exec', '-T', 'web', 'nslookup', 'database']);
        return r.code === 0 && r.stdout.includes(dbIp) ? r : undefined;
      },
      15_000,
      'database to resolve from web',
    );
    expect(look.stdout).toContain(dbIp);
    expect((await p.run(['exec', '-T', 'other', 'nslookup', 'db'])).code).toBe(0);
    expect((await p.run(['exec', '-T', 'other', 'nslookup', 'database'])).code).not.toBe(0);
    // on another container's network, a container takes its hostname (Docker)
    const dbId = (await p.ok(['ps', '--format', '{{.ID}}', 'db'])).stdout.trim();
    expect((await p.ok(['exec', '-T', 'side', 'hostname'])).stdout.trim()).toBe(dbId);
  });
});
