/**
 * Log load: a few services writing a few MB each as fast as they can, while `logs -f` follows
 * them and `ps` (and the supervisor's list) is asked again and again. Every line arrives, in
 * order (a follower that falls behind reads the files, and max-size × max-file keeps them all
 * here); the supervisor answers meanwhile; rotation holds; its memory stays bounded. Not timed:
 * the speed of this path is bench/log-load.mjs's.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CliProject, waitFor } from '../../support/cli.js';
import { connectSupervisor } from '../../../src/supervisor/index.js';

const SERVICES = 4;
const LINES = 40_000; // about 3.6 MB per service
const MAX_SIZE = 1024 * 1024;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

describe('log load', () => {
  it('logs -f gets every line in order while ps is answered, rotation holds and the supervisor stays small', async () => {
    const writer = `echo ready; while [ ! -e /sig/go ]; do usleep 50000; done; awk 'BEGIN { for (i = 1; i <= ${LINES}; i++) printf "%d %s\\n", i, "${'x'.repeat(80)}" }'`;
    let compose = 'services:\n';
    for (let i = 1; i <= SERVICES; i++) {
      compose += `  w${i}:\n    image: busybox:latest\n    volumes: ["./sig:/sig"]\n`;
      compose += `    logging: {driver: json-file, options: {max-size: "1m", max-file: "8"}}\n`;
      compose += `    command: ["sh", "-c", ${JSON.stringify(writer)}]\n`;
    }
    const p = await CliProject.create(compose);
    mkdirSync(path.join(p.dir, 'sig'));
    await p.ok(['up', '-d']);
    const supPid = Number(readFileSync(path.join(p.root, 'projects', p.name, 'supervisor.pid'), 'utf8').trim());
    const sup = (await connectSupervisor(p.root, p.name))!;
    expect(sup).not.toBe(null);

    // follow from before the load; it ends once every container has exited
    const f = p.spawn(['logs', '-f', '--no-color']);
    const seen = new Map<string, number[]>();
    let ready = 0;
    let rest = '';
    f.stdout!.on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop()!;
      for (const l of lines) {
        const m = /^(\S+)\s+\| (?:(ready)|(\d+) x+)$/.exec(l);
        if (!m) continue;
        if (m[2]) ready++;
        else {
          const nums = seen.get(m[1]) ?? [];
          seen.set(m[1], nums);
          nums.push(Number(m[3]));
        }
      }
    });
    const ended = new Promise<number | null>((r) => f.once('exit', (code) => r(code)));
    try {
      await waitFor(() => ready === SERVICES, 30_000, 'logs -f to show every writer ready');
      writeFileSync(path.join(p.dir, 'sig', 'go'), '');
      let done = false;
      void ended.then(() => (done = true));
      let slowest = 0;
      let peakRss = 0;
      let asked = 0;
      while (!done) {
        const t0 = Date.now();
        await p.ok(['ps']);
        await sup.list();
        slowest = Math.max(slowest, Date.now() - t0);
        peakRss = Math.max(peakRss, rssMiB(supPid));
        asked++;
      }
      expect(await ended).toBe(0);
      expect(asked).toBeGreaterThan(0);
      expect(slowest).toBeLessThan(10_000);
      expect(peakRss).toBeLessThan(250);
    } finally {
      if (f.exitCode === null) f.kill('SIGKILL');
    }
    expect([...seen.keys()].sort()).toEqual(Array.from({ length: SERVICES }, (_, i) => `w${i + 1}-1`));
    const all = Array.from({ length: LINES }, (_, i) => i + 1);
    for (const nums of seen.values()) {
      expect(nums.length).toBe(LINES);
      expect(nums).toEqual(all);
    }
    // rotation: at most max-file files per container, none longer than max-size
    const containers = path.join(p.root, 'projects', p.name, 'containers');
    for (const c of readdirSync(containers)) {
      const logs = readdirSync(path.join(containers, c)).filter((n) => n.startsWith('container-json.log'));
      expect(logs.length).toBeLessThanOrEqual(8);
      for (const n of logs) expect(statSync(path.join(containers, c, n)).size).toBeLessThanOrEqual(MAX_SIZE);
    }
  }, 120_000);
});
