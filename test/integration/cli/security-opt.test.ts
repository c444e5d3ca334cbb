/**
 * Issue 12: `security_opt: [seccomp=unconfined]` (or `seccomp:unconfined`) reaches the engine.
 * The engine's own error hint tells users to set it, but the apply layer used to ignore it.
 */
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
});
