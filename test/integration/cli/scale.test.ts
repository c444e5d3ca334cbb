import { describe, expect, it } from 'vitest';
import { CliProject } from '../../support/cli.js';

// each test's projects are brought down and checked for leftovers by test/integration/setup-file.ts
let p: CliProject | undefined;

describe('up options', () => {
  it('--scale up and down keeps the lowest numbers; deploy.replicas; DNS answers every replica', async () => {
    p = await CliProject.create(`
services:
  w:
    image: busybox:latest
    command: sleep 3600
  r:
    image: busybox:latest
    command: sleep 3600
    deploy:
      replicas: 2
`);
    await p.ok(['up', '-d', '--scale', 'w=3']);
    let ps = await p.ps();
    expect(ps.filter((c) => c.Service === 'w').map((c) => c.Name)).toEqual([1, 2, 3].map((n) => `${p!.name}-w-${n}`));
    expect(ps.filter((c) => c.Service === 'r')).toHaveLength(2);
    const ips = ps
      .filter((c) => c.Service === 'w')
      .map((c) => Object.values(p!.addresses(c.Name as string))[0]!)
      .sort();
    const look = await p.ok(['exec', 'r', 'nslookup', 'w']);
    const answered = [...look.stdout.matchAll(/Address:\s+(\d+\.\d+\.\d+\.\d+)/g)]
      .map((m) => m[1]!)
      .filter((a) => ips.includes(a))
      .sort();
    expect(answered).toEqual(ips);
    const first = ps.find((c) => c.Name === `${p!.name}-w-1`)!.Pid;

    await p.ok(['up', '-d', '--scale', 'w=1', '-t', '0']);
    ps = await p.ps();
    expect(ps.filter((c) => c.Service === 'w').map((c) => c.Name)).toEqual([`${p.name}-w-1`]);
    expect(ps.find((c) => c.Name === `${p!.name}-w-1`)!.Pid).toBe(first);
    await p.ok(['down', '-t', '0']);
  });

  it('--no-deps, --no-start then start, --force-recreate', async () => {
    p = await CliProject.create(`
services:
  db:
    image: busybox:latest
    command: sleep 3600
  app:
    image: busybox:latest
    command: sleep 3600
    depends_on: [db]
`);
    await p.ok(['up', '-d', '--no-deps', 'app']);
    expect((await p.ps()).map((c) => c.Service)).toEqual(['app']);
    await p.ok(['down', '-t', '0']);

    await p.ok(['up', '--no-start']);
    let ps = await p.ps();
    expect(ps.map((c) => [c.Service, c.State])).toEqual([
      ['app', 'created'],
      ['db', 'created'],
    ]);
    expect((await p.ok(['ps', '-a'])).stdout).toMatch(/Created/);
    await p.ok(['start']);
    ps = await p.ps();
    expect(ps.every((c) => c.State === 'running')).toBe(true);
    const pids = ps.map((c) => c.Pid);

    const r = await p.ok(['up', '-d', '--force-recreate', '-t', '0']);
    expect(r.stderr).toMatch(/Recreat|Started/);
    ps = await p.ps();
    expect(ps.every((c) => c.State === 'running')).toBe(true);
    for (const pid of ps.map((c) => c.Pid)) expect(pids).not.toContain(pid);
    await p.ok(['down', '-t', '0']);
  });

  it('warns about orphans and removes them only with --remove-orphans', async () => {
    p = await CliProject.create(`
services:
  keep:
    image: busybox:latest
    command: sleep 3600
  gone:
    image: busybox:latest
    command: sleep 3600
`);
    await p.ok(['up', '-d']);
    p.write(
      'compose.yaml',
      `
services:
  keep:
    image: busybox:latest
    command: sleep 3600
`,
    );
    const r = await p.ok(['up', '-d']);
    expect(r.stderr).toMatch(new RegExp(`orphan.*${p.name}-gone-1|${p.name}-gone-1.*orphan`, 'i'));
    expect((await p.ps()).map((c) => c.Service).sort()).toEqual(['gone', 'keep']);
    await p.ok(['up', '-d', '--remove-orphans', '-t', '0']);
    expect((await p.ps()).map((c) => c.Service)).toEqual(['keep']);
    await p.ok(['down', '-t', '0']);
  });

  it('refuses, before changing anything, a network whose configuration in the file differs from the one that exists', async () => {
    const compose = (subnet: string, internal: boolean) => `
services:
  a:
    image: busybox:latest
    command: sleep 3600
networks:
  default:
    internal: ${internal}
    ipam:
      config:
        - subnet: ${subnet}
`;
    p = await CliProject.create(compose('10.213.7.0/24', false));
    await p.ok(['up', '-d']);
    const before = (await p.ps())[0]!;
    p.write('compose.yaml', compose('10.213.8.0/24', true));
    for (const args of [
      ['up', '-d'],
      ['run', '--rm', 'a', 'true'],
    ]) {
      const r = await p.run(args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('network "default" (subnet 10.213.7.0/24 → 10.213.8.0/24, internal false → true)');
      expect(r.stderr).toContain('tscompose down');
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    const after = (await p.ps())[0]!;
    expect([after.Name, after.Pid, after.State]).toEqual([before.Name, before.Pid, 'running']);
    // the same subnet written another way is no change; down always works
    p.write('compose.yaml', compose('10.213.7.9/24', false));
    await p.ok(['up', '-d']);
    p.write('compose.yaml', compose('10.213.8.0/24', true));
    await p.ok(['down', '-t', '0']);
    await p.ok(['up', '-d']);
    const ip = Object.values(p.addresses((await p.ps())[0]!.Name as string))[0]!;
    expect(ip).toMatch(/^10\.213\.8\./);
    await p.ok(['down', '-t', '0']);
  });
});
