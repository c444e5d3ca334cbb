/**
 * Issue 12: `security_opt: [seccomp=unconfined]` (or `seccomp:unconfined`) reaches the engine.
 * The engine's own error hint tells users to set it, but the apply layer used to ignore it.
 * Issue 14: `seccomp=<file>`, a profile in Docker's format, relative to the project directory.
 */
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliProject } from '../../support/cli.js';

// each test's projects are brought down and checked for leftovers by test/integration/setup-file.ts
let p: CliProject | undefined;

/** The Seccomp: field of the container's PID 1 (2 = filter, 0 = none). */
async function seccompOfPid1(project: CliProject, service: string): Promise<string> {
  const status = (await project.ok(['exec', service, 'cat', '/proc/1/status'])).stdout;
  const line = status.split('\n').find((l) => l.startsWith('Seccomp:'));
  expect(line, `Seccomp: in /proc/1/status:\n${status}`).toBeDefined();
  return line!.split(/\s+/)[1]!;
}

describe('security_opt seccomp', () => {
  it('the default filter applies unless seccomp=unconfined or seccomp:unconfined turns it off', async () => {
    p = await CliProject.create(`
services:
  filtered:
    image: busybox:latest
    command: sleep 3600
  equals:
    image: busybox:latest
    command: sleep 3600
    security_opt: [seccomp=unconfined]
  colon:
    image: busybox:latest
    command: sleep 3600
    security_opt: ["seccomp:unconfined", no-new-privileges]
`);
    await p.ok(['up', '-d']);
    expect(await seccompOfPid1(p, 'filtered')).toBe('2');
    expect(await seccompOfPid1(p, 'equals')).toBe('0');
    expect(await seccompOfPid1(p, 'colon')).toBe('0');
  });

  it('seccomp=<file>: a profile of Docker format, relative to the project directory, applies to the command and to exec', async () => {
    const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
    p = await CliProject.create(
      `
services:
  nomkdir:
    image: busybox:latest
    command: ["sh", "-c", "mkdir /tmp/made; echo mkdir=$$?; sleep 3600"]
    security_opt: ["seccomp=profiles/no-mkdir.json"]
`,
      { 'profiles/no-mkdir.json': JSON.stringify(profile) },
    );
    // from another directory: the path is the project's, not the caller's
    const file = ['-f', path.join(p.dir, 'compose.yaml')];
    await p.ok([...file, 'up', '-d'], { cwd: os.tmpdir() });
    expect(await seccompOfPid1(p, 'nomkdir')).toBe('2');
    let logs = '';
    for (let i = 0; i < 50 && !logs.includes('mkdir='); i++) {
      logs = (await p.ok(['logs', 'nomkdir'])).stdout;
      if (!logs.includes('mkdir=')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(logs).toMatch(/Operation not permitted/);
    expect(logs).toMatch(/mkdir=1/);
    const ex = await p.run(['exec', 'nomkdir', 'mkdir', '/tmp/by-exec']);
    expect(ex.code).not.toBe(0);
    expect(ex.stderr).toMatch(/Operation not permitted/);
    expect((await p.ok(['exec', 'nomkdir', 'touch', '/tmp/allowed'])).code).toBe(0);
  });

  it('a bad or missing profile file: one paragraph naming the file and what is wrong, exit 1, nothing started', async () => {
    p = await CliProject.create(
      `
services:
  bad:
    image: busybox:latest
    command: sleep 3600
    security_opt: ["seccomp=bad.json"]
`,
      { 'bad.json': JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_DENY' }] }) },
    );
    const bad = await p.run(['up', '-d']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`seccomp profile ${path.join(p.dir, 'bad.json')}: syscalls[0].action: "SCMP_ACT_DENY" is not a seccomp action`);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    p.write('compose.yaml', 'services:\n  bad:\n    image: busybox:latest\n    command: sleep 3600\n    security_opt: ["seccomp=missing.json"]\n');
    const missing = await p.run(['up', '-d']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`cannot read seccomp profile of service "bad" ${path.join(p.dir, 'missing.json')}: no such file`);
    expect((await p.ok(['ps', '-q'])).stdout.trim()).toBe('');
  });
});
