/**
 * An attached `run` goes through the project's supervisor like every container: its stdio is
 * relayed (stdin piped in, both output streams, a pseudo-terminal with -t), its exit code is
 * run's, its status record is the supervisor's, and a `run --rm` whose CLI is SIGKILLed leaves
 * no process, cgroup or record behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, CliProject, waitFor } from '../../support/cli.js';

// each test's projects are brought down and checked for leftovers by test/integration/setup-file.ts
let p: CliProject | undefined;

function started(proj: CliProject, args: string[]): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const child = spawn(CLI, args, { cwd: proj.dir, env: proj.env(), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exit };
}

const cgroupDirs = (project: string, name: string): string[] =>
  readdirSync('/sys/fs/cgroup')
    .map((ctrl) => path.join('/sys/fs/cgroup', ctrl, 'tscompose', project, name))
    .filter((d) => existsSync(d));

describe('attached run through the supervisor', () => {
  it('relays stdin, both streams, a terminal and the exit code; a SIGKILLed run --rm leaves nothing', async () => {
    p = await CliProject.create(`
services:
  tool:
    image: busybox:latest
    command: sleep 3600
`);
    const proj = p;
    const projectDir = path.join(proj.root, 'projects', proj.name);

    // stdin piped in (its EOF reaches the container), stdout and stderr apart, the exit code
    const piped = started(proj, ['run', '--rm', 'tool', 'sh', '-c', 'cat; echo to-err >&2; exit 6']);
    piped.child.stdin!.end('piped line\n');
    expect(await piped.exit).toBe(6);
    expect(piped.out()).toBe('piped line\n');
    expect(piped.err()).toContain('to-err\n');

    // -t: a pseudo-terminal (of the default size: this test's stdout is no terminal)
    const tty = await proj.run(['run', '--rm', '-t', 'tool', 'sh', '-c', '[ -t 0 ] && [ -t 1 ] && stty size']);
    expect(tty.code).toBe(0);
    expect(tty.stdout).toBe('24 80\r\n');

    // the supervisor owns the one-off: it started it and writes its status record
    const killed = started(proj, ['run', '--rm', 'tool', 'sleep', '300']);
    const name = await waitFor(
      () => {
        const index = JSON.parse(readFileSync(path.join(projectDir, 'supervised.json'), 'utf8')) as { containers: Record<string, string> };
        return Object.keys(index.containers).find((n) => n.startsWith(`${proj.name}-tool-run-`));
      },
      30_000,
      'the one-off in the supervisor index',
    );
    const bundle = path.join(projectDir, 'containers', name);
    const status = await waitFor(
      () => {
        const st = JSON.parse(readFileSync(path.join(bundle, 'status.json'), 'utf8')) as { state: string; pid: number | null };
        return st.state === 'running' && st;
      },
      30_000,
      'the one-off running',
    );
    expect(existsSync(`/proc/${status.pid}`)).toBe(true);
    expect(cgroupDirs(proj.name, name).length).toBeGreaterThan(0);

    killed.child.kill('SIGKILL');
    await killed.exit;
    // the supervisor saw its client go: the container is killed and its supervisor side removed
    await waitFor(
      () => !existsSync(`/proc/${status.pid}`) && !existsSync(path.join(bundle, 'status.json')) && cgroupDirs(proj.name, name).length === 0,
      30_000,
      'the killed one-off to be gone',
    );
    const index = JSON.parse(readFileSync(path.join(projectDir, 'supervised.json'), 'utf8')) as { containers: Record<string, string> };
    expect(Object.keys(index.containers)).not.toContain(name);
    // the next run removes the project's part (record, network namespace, address)
    await proj.ok(['run', '--rm', 'tool', 'true']);
    const state = JSON.parse(readFileSync(path.join(projectDir, 'state.json'), 'utf8')) as { containers: Record<string, unknown> };
    expect(Object.keys(state.containers)).toEqual([]);
    expect(existsSync(path.join(projectDir, 'netns', name))).toBe(false);
    expect(await proj.ps()).toEqual([]);
  });
});
