/**
 * buildRunConfig: one Compose service (as the loader normalizes it) plus its image → what the
 * supervisor runs. The combination rules are Docker/Compose's.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject, type Service } from '../../../src/compose/index.js';
import { DEFAULT_CAPABILITIES, type TmpfsMount } from '../../../src/engine/spec.js';
import type { ImageConfig, ImageRecord } from '../../../src/images/types.js';
import { buildRunConfig, type RunConfigInput } from '../../../src/apply/run-config.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The normalized service `name` of a compose file (other files written next to it first). */
async function service(yaml: string, name = 'app', files: Record<string, string> = {}): Promise<Service> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-runcfg-'));
  dirs.push(dir);
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  writeFileSync(path.join(dir, 'compose.yaml'), yaml);
  const p = await loadProject({ workingDir: dir, env: {} });
  return p.services[name]!;
}

function image(config: ImageConfig = {}): ImageRecord {
  return {
    id: 'sha256:' + 'a'.repeat(64),
    repoTags: ['docker.io/library/busybox:latest'],
    repoDigests: [],
    diffIds: [],
    os: 'linux',
    architecture: 'amd64',
    size: 0,
    config,
  };
}

function build(s: Service, img: ImageRecord = image({ Cmd: ['sh'] }), more: Partial<RunConfigInput> = {}) {
  return buildRunConfig({
    root: '/state',
    project: 'demo',
    projectDir: '/project',
    service: s,
    image: img,
    lowerDirs: ['/state/images/layers/x/diff'],
    name: 'demo-app-1',
    containerId: 'c'.repeat(64),
    number: 1,
    bundleDir: '/state/projects/demo/containers/demo-app-1',
    netns: { kind: 'path', path: '/state/projects/demo/netns/demo-app-1' },
    networks: [{ key: 'default', name: 'demo_default', address: '172.30.0.2', gateway: '172.30.0.1', internal: false, aliases: ['app'] }],
    volumePaths: {},
    anonymousVolumes: {},
    ...more,
  });
}

const svc = (body: string) => service(`services:\n  app:\n    image: busybox:latest\n${body.replace(/^/gm, '    ')}\n`);

describe('buildRunConfig: entrypoint and command', () => {
  const img = image({ Entrypoint: ['/entry.sh'], Cmd: ['serve', '--port', '80'] });

  it('the image alone: its ENTRYPOINT then CMD', async () => {
    expect(build(await svc(''), img).spec.process.args).toEqual(['/entry.sh', 'serve', '--port', '80']);
  });

  it('command replaces CMD and keeps ENTRYPOINT', async () => {
    expect(build(await svc('command: [run, fast]'), img).spec.process.args).toEqual(['/entry.sh', 'run', 'fast']);
  });

  it('entrypoint clears the image ENTRYPOINT and CMD', async () => {
    expect(build(await svc('entrypoint: [/bin/echo]'), img).spec.process.args).toEqual(['/bin/echo']);
  });

  it('entrypoint and command: both from the service', async () => {
    expect(build(await svc('entrypoint: [/bin/echo]\ncommand: hi there'), img).spec.process.args).toEqual(['/bin/echo', 'hi', 'there']);
  });

  it('run overrides: a command replaces CMD; --entrypoint drops the service command too', async () => {
    const s = await svc('entrypoint: [/bin/echo]\ncommand: [a]');
    expect(build(s, img, { overrides: { command: ['b'] } }).spec.process.args).toEqual(['/bin/echo', 'b']);
    expect(build(s, img, { overrides: { entrypoint: ['/bin/true'] } }).spec.process.args).toEqual(['/bin/true']);
    expect(build(s, img, { overrides: { entrypoint: ['/bin/true'], command: ['x'] } }).spec.process.args).toEqual(['/bin/true', 'x']);
  });

  it('no command anywhere is refused', async () => {
    const s = await svc('');
    expect(() => build(s, image({}))).toThrow(/has no command/);
  });
});

describe('buildRunConfig: environment', () => {
  it('image < env_file < environment < run -e; PATH and HOSTNAME filled in', async () => {
    const s = await service(
      `services:\n  app:\n    image: busybox:latest\n    env_file: [app.env]\n    environment: { B: from-environment, C: from-environment }\n`,
      'app',
      { 'app.env': 'A=from-file\nB=from-file\n' },
    );
    const env = build(s, image({ Cmd: ['sh'], Env: ['A=from-image', 'Z=from-image'] }), { overrides: { env: { C: from('run') } } }).spec.process.env;
    expect(env).toContain('Z=from-image');
    expect(env).toContain('A=from-file');
    expect(env).toContain('B=from-environment');
    expect(env).toContain('C=from-run');
    expect(env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(env).toContain(`HOSTNAME=${'c'.repeat(12)}`);
  });

  it("the image's PATH is kept", async () => {
    expect(build(await svc(''), image({ Cmd: ['sh'], Env: ['PATH=/opt/bin'] })).spec.process.env).toContain('PATH=/opt/bin');
  });
});

function from(x: string): string {
  return `from-${x}`;
}

describe('buildRunConfig: user, working dir, hostname', () => {
  it('run -u over the service over the image; working_dir likewise, else /', async () => {
    const img = image({ Cmd: ['sh'], User: 'nobody', WorkingDir: '/img' });
    expect(build(await svc(''), img).spec.process.user).toBe('nobody');
    expect(build(await svc(''), img).spec.process.cwd).toBe('/img');
    expect(build(await svc('user: "1000:1000"\nworking_dir: /srv'), img).spec.process).toMatchObject({ user: '1000:1000', cwd: '/srv' });
    expect(build(await svc('user: "1000"'), img, { overrides: { user: 'root', workingDir: '/tmp' } }).spec.process).toMatchObject({
      user: 'root',
      cwd: '/tmp',
    });
    expect(build(await svc(''), image({ Cmd: ['sh'] })).spec.process).toMatchObject({ user: undefined, cwd: '/' });
  });

  it('the hostname is the short id unless the service or the shared network sets it', async () => {
    expect(build(await svc('')).spec.hostname).toBe('c'.repeat(12));
    expect(build(await svc('hostname: web')).spec.hostname).toBe('web');
    expect(build(await svc(''), undefined, { sharedHostname: 'other' }).spec.hostname).toBe('other');
  });
});

describe('buildRunConfig: capabilities, privileges, resources', () => {
  it("Docker's default set, minus cap_drop, plus cap_add; ALL; privileged", async () => {
    const caps = build(await svc('cap_add: [NET_ADMIN]\ncap_drop: [CAP_CHOWN]')).spec.process.capabilities;
    expect(caps).toContain('NET_ADMIN');
    expect(caps).not.toContain('CHOWN');
    expect(caps).toEqual([...DEFAULT_CAPABILITIES.filter((c) => c !== 'CHOWN'), 'NET_ADMIN']);
    expect(build(await svc('cap_drop: [ALL]\ncap_add: [KILL]')).spec.process.capabilities).toEqual(['KILL']);
    expect(build(await svc('cap_add: [ALL]')).spec.process.capabilities).toEqual(['ALL']);
    const priv = build(await svc('privileged: true'));
    expect(priv.spec.process.capabilities).toEqual(['ALL']);
    expect(priv.spec.privileged).toBe(true);
  });

  it('no-new-privileges from security_opt', async () => {
    expect(build(await svc('')).spec.process.noNewPrivileges).toBe(false);
    expect(build(await svc('security_opt: [no-new-privileges:true]')).spec.process.noNewPrivileges).toBe(true);
  });

  it('seccomp=unconfined and seccomp:unconfined from security_opt turn the filter off; other options leave it alone', async () => {
    expect(build(await svc('')).spec.seccomp).toBeUndefined();
    expect(build(await svc('security_opt: [seccomp=unconfined]')).spec.seccomp).toBe('unconfined');
    const both = build(await svc('security_opt: [no-new-privileges, "seccomp:unconfined"]')).spec;
    expect(both.seccomp).toBe('unconfined');
    expect(both.process.noNewPrivileges).toBe(true);
    expect(build(await svc('security_opt: [apparmor=unconfined]')).spec.seccomp).toBeUndefined();
  });

  it('seccomp=<file>: the profile read relative to the project directory and checked; a bad or missing file is one clear error', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-seccomp-'));
    try {
      const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
      writeFileSync(path.join(dir, 'no-mkdir.json'), JSON.stringify(profile));
      writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'] }] }));
      const at = { projectDir: dir };
      expect(build(await svc('security_opt: ["seccomp=./no-mkdir.json"]'), undefined, at).spec.seccomp).toEqual({
        file: path.join(dir, 'no-mkdir.json'),
        profile,
      });
      // the last seccomp entry wins, as in Docker; privileged runs unconfined whatever the profile
      expect(build(await svc('security_opt: ["seccomp=no-mkdir.json", seccomp=unconfined]'), undefined, at).spec.seccomp).toBe('unconfined');
      expect(build(await svc('privileged: true\nsecurity_opt: ["seccomp=no-mkdir.json"]'), undefined, at).spec.seccomp).toBeUndefined();
      const bad = await svc('security_opt: ["seccomp=bad.json"]');
      expect(() => build(bad, undefined, at)).toThrow(`seccomp profile ${path.join(dir, 'bad.json')}: syscalls[0].action: is missing`);
      const missing = await svc('security_opt: ["seccomp:missing.json"]');
      expect(() => build(missing, undefined, at)).toThrow(`cannot read seccomp profile of service "app" ${path.join(dir, 'missing.json')}: no such file`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('memory (swap = 2 × memory unless memswap_limit), cpus, pids', async () => {
    const r = build(await svc('mem_limit: 64m\ncpus: 1.5\npids_limit: 50')).spec.resources;
    expect(r).toEqual({ memory: 64 * 1024 ** 2, memorySwap: 128 * 1024 ** 2, cpuPeriod: 100_000, cpuQuota: 150_000, pidsLimit: 50 });
    expect(build(await svc('mem_limit: 64m\nmemswap_limit: -1')).spec.resources).toMatchObject({ memory: 64 * 1024 ** 2, memorySwap: -1 });
    const d = build(await svc('deploy: { resources: { limits: { memory: 32m, cpus: "0.5", pids: 7 } } }')).spec.resources;
    expect(d).toMatchObject({ memory: 32 * 1024 ** 2, cpuQuota: 50_000, pidsLimit: 7 });
    expect(build(await svc('')).spec.resources).toEqual({});
  });

  it('ulimits become rlimits; the cgroup path names project and container', async () => {
    const spec = build(await svc('ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: 64 }')).spec;
    expect(spec.process.rlimits).toEqual(
      expect.arrayContaining([
        { name: 'nofile', soft: 1024, hard: 2048 },
        { name: 'nproc', soft: 64, hard: 64 },
      ]),
    );
    expect(spec.cgroupPath).toBe('tscompose/demo/demo-app-1');
  });
});

describe('buildRunConfig: mounts', () => {
  it('bind (absolute source), named volume and anonymous volume become binds', async () => {
    const s = await service(`services:\n  app:\n    image: busybox:latest\n    volumes: ["./site:/site:ro", "data:/data", "/anon"]\nvolumes: { data: {} }\n`);
    const m = build(s, undefined, { volumePaths: { data: '/state/volumes/demo_data/_data' }, anonymousVolumes: { '/anon': '/state/volumes/abc/_data' } }).spec
      .mounts;
    expect(m).toHaveLength(3);
    expect(m[0]).toMatchObject({ type: 'bind', target: '/site', readonly: true, createHostPath: true });
    expect(path.isAbsolute((m[0] as { source: string }).source)).toBe(true);
    expect((m[0] as { source: string }).source.endsWith('/site')).toBe(true);
    expect(m[1]).toMatchObject({ type: 'bind', source: '/state/volumes/demo_data/_data', target: '/data', createHostPath: false });
    expect(m[2]).toMatchObject({ type: 'bind', source: '/state/volumes/abc/_data', target: '/anon' });
  });

  it('a volume with no data directory is an error', async () => {
    const s = await service(`services:\n  app:\n    image: busybox:latest\n    volumes: ["data:/data"]\nvolumes: { data: {} }\n`);
    expect(() => build(s)).toThrow(/has no data directory/);
  });

  it('tmpfs: the long syntax (size, mode, read_only)', async () => {
    const s = await svc('volumes: [{ type: tmpfs, target: /cache, read_only: true, tmpfs: { size: 1048576, mode: 0700 } }]');
    expect(build(s).spec.mounts).toEqual([{ type: 'tmpfs', target: '/cache', size: 1048576, mode: 0o700, readonly: true }]);
  });

  it('tmpfs: the service key passes every option to the engine (noexec, uid=, ...), not only size and mode', async () => {
    const s = await svc('tmpfs: ["/run", "/scratch:noexec", "/t:size=64m,mode=1770,uid=1000,gid=1000,nosuid,ro"]');
    const m = build(s).spec.mounts as TmpfsMount[];
    expect(m).toEqual([
      { type: 'tmpfs', target: '/run', size: undefined, mode: undefined, options: undefined },
      { type: 'tmpfs', target: '/scratch', size: undefined, mode: undefined, options: ['noexec'] },
      { type: 'tmpfs', target: '/t', size: 64 * 1024 ** 2, mode: 0o1770, options: ['uid=1000', 'gid=1000', 'nosuid', 'ro'] },
    ]);
  });

  it('tmpfs: a malformed entry made by hand is refused, not dropped', async () => {
    const s = { ...(await svc('')), tmpfs: ['/x:bogus'] };
    expect(() => build(s)).toThrow(/unknown tmpfs option "bogus"/);
  });

  it('read_only makes the root read-only; image layers are the lower dirs', async () => {
    const spec = build(await svc('read_only: true')).spec;
    expect(spec.rootfs).toEqual({ lowerDirs: ['/state/images/layers/x/diff'], readonly: true });
  });
});

describe('buildRunConfig: /etc files', () => {
  it('hosts names the container at its first address; resolv.conf points at the gateway', async () => {
    const etc = build(await svc('extra_hosts: ["db.local:10.0.0.5", "gw:host-gateway"]')).spec.etc!;
    expect(etc.hostname).toBe('c'.repeat(12) + '\n');
    expect(etc.hosts).toMatch(/172\.30\.0\.2\s.*cccccccccccc/);
    expect(etc.hosts).toMatch(/10\.0\.0\.5\s+db\.local/);
    expect(etc.hosts).toMatch(/172\.30\.0\.1\s+gw/);
    expect(etc.resolvConf).toMatch(/^nameserver 172\.30\.0\.1$/m);
  });

  it('dns: the service servers instead of the gateway; no network and no dns: empty', async () => {
    expect(build(await svc('dns: [9.9.9.9]\ndns_search: [corp]')).spec.etc!.resolvConf).toMatch(/nameserver 9\.9\.9\.9[\s\S]*search corp/);
    const none = build(await svc('network_mode: none'), undefined, { netns: { kind: 'none' }, networks: [] }).spec.etc!;
    expect(none.resolvConf).toBe('');
  });
});

describe('buildRunConfig: healthcheck, restart, labels', () => {
  const imgHc = image({ Cmd: ['sh'], Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Timeout: 2e9, Retries: 4 } });

  it("the image's healthcheck when the service has none (ns → ms)", async () => {
    expect(build(await svc(''), imgHc).healthcheck).toMatchObject({ test: ['CMD-SHELL', 'true'], interval: 5000, timeout: 2000, retries: 4, startPeriod: 0 });
  });

  it("the service's healthcheck wins; disable: true removes the image's", async () => {
    const hc = build(await svc('healthcheck: { test: [CMD, wget, -q, localhost], interval: 1s, retries: 9 }'), imgHc).healthcheck;
    expect(hc).toMatchObject({ test: ['CMD', 'wget', '-q', 'localhost'], interval: 1000, retries: 9 });
    expect(build(await svc('healthcheck: { disable: true }'), imgHc).healthcheck).toBeUndefined();
    expect(build(await svc(''), image({ Cmd: ['sh'] })).healthcheck).toBeUndefined();
  });

  it('restart policy from the service; run overrides it; none is "no"', async () => {
    expect(build(await svc('')).restart).toEqual({ name: 'no' });
    expect(build(await svc('restart: always')).restart).toEqual({ name: 'always' });
    expect(build(await svc('restart: on-failure:3')).restart).toEqual({ name: 'on-failure', maxRetries: 3 });
    expect(build(await svc('restart: always'), undefined, { overrides: { restart: 'no' } }).restart).toEqual({ name: 'no' });
  });

  it("Compose's labels, then the service's", async () => {
    const labels = build(await svc('labels: { team: a }\ndepends_on: []'), undefined, {
      composeLabels: { 'com.docker.compose.config-hash': 'h' },
      oneOff: true,
    }).labels;
    expect(labels).toMatchObject({
      'com.docker.compose.project': 'demo',
      'com.docker.compose.service': 'app',
      'com.docker.compose.container-number': '1',
      'com.docker.compose.oneoff': 'True',
      'com.docker.compose.config-hash': 'h',
      team: 'a',
    });
  });

  it('stop signal: the service, else the image', async () => {
    expect(build(await svc(''), image({ Cmd: ['sh'], StopSignal: 'SIGQUIT' })).stopSignal).toBe('SIGQUIT');
    expect(build(await svc('stop_signal: SIGINT'), image({ Cmd: ['sh'], StopSignal: 'SIGQUIT' })).stopSignal).toBe('SIGINT');
  });
});
