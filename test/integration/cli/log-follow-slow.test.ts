/**
 * A `logs -f` client that stops reading never slows the container it follows: the container
 * writes about 30 MB of log while the client reads nothing, and finishes; once the client reads
 * again it gets every line (all still on disk: max-size × max-file holds them), in order, once.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CliProject, waitFor } from '../../support/cli.js';

const LINES = 200_000; // about 20 MB of output, 34 MB of json-file log

describe('slow logs -f', () => {
  it('a client that reads nothing does not hold the container; when it reads again it gets every line in order', async () => {
    const writer = `echo ready; while [ ! -e /sig/go ]; do usleep 50000; done; awk 'BEGIN { for (i = 1; i <= ${LINES}; i++) printf "%d %s\\n", i, "${'x'.repeat(90)}" }'; touch /sig/done`;
    const compose = `services:
  w:
    image: busybox:latest
    volumes: ["./sig:/sig"]
    logging: {driver: json-file, options: {max-size: "20m", max-file: "3"}}
    command: ["sh", "-c", ${JSON.stringify(writer)}]
`;
    const p = await CliProject.create(compose);
    const sig = path.join(p.dir, 'sig');
    mkdirSync(sig);
    await p.ok(['up', '-d']);
    const f = p.spawn(['logs', '-f', '--no-color']);
    const seen: number[] = [];
    let ready = false;
    let rest = '';
    const onData = (d: Buffer): void => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop()!;
      for (const l of lines) {
        const m = /^\S+\s+\| (?:(ready)|(\d+) x+)$/.exec(l);
        if (m?.[1]) ready = true;
        else if (m) seen.push(Number(m[2]));
      }
    };
    f.stdout!.on('data', onData);
    const ended = new Promise<number | null>((r) => f.once('exit', (code) => r(code)));
    try {
      await waitFor(() => ready, 30_000, 'logs -f to show the writer ready');
      // the client stops reading: its stdout pipe fills, then its connection to the supervisor
      f.stdout!.off('data', onData);
      f.stdout!.pause();
      writeFileSync(path.join(sig, 'go'), '');
      // the container writes everything while the client has read (almost) nothing
      await waitFor(() => existsSync(path.join(sig, 'done')), 90_000, 'the writer to finish while logs -f is not read');
      expect(seen.length).toBeLessThan(LINES / 2);
      f.stdout!.on('data', onData);
      f.stdout!.resume();
      expect(await ended).toBe(0);
    } finally {
      if (f.exitCode === null) f.kill('SIGKILL');
    }
    expect(seen.length).toBe(LINES);
    expect(seen).toEqual(Array.from({ length: LINES }, (_, i) => i + 1));
  }, 180_000);
});
