/**
 * Isolation between two projects on one host, as Docker Compose users expect: a container of
 * project A reaches its own services by name and address, but neither resolves nor reaches
 * project B's containers. And `tscompose exec` never exposes tscompose's own binary inside the
 * container (CVE-2019-5736 class).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliProject, waitFor } from '../../support/cli.js';

/** The test's own PID namespace (the host's): the probe refuses to run in it. */
const HOST_PIDNS = String(statSync('/proc/self/ns/pid').ino);

const httpd = (text: string) => `sh -c 'mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www'`;

describe('two projects', () => {
  it('a container of project A cannot resolve or reach project B; tscompose exec leaves no node binary reachable', async () => {
    const b = await CliProject.create(`
services:
  secret:
    image: busybox:latest
    command: ${httpd('secret-b')}
`);
    await b.ok(['up', '-d']);
    const node = statSync(process.execPath);
    const a = await CliProject.create(`
services:
  peer:
    image: busybox:latest
    command: ${httpd('peer-a')}
  client:
    image: busybox:latest
    command: sh -c '/tools/probe exe-watch ${node.dev}:${node.ino} 6 ${HOST_PIDNS} > /tmp/watch.txt; exec sleep 3600'
    volumes: ["./tools:/tools:ro"]
`);
    mkdirSync(path.join(a.dir, 'tools'));
    execFileSync('gcc', ['-static', '-O1', '-o', path.join(a.dir, 'tools', 'probe'), path.join(__dirname, 'probe.c')]);
    await a.ok(['up', '-d']);

    const bIp = b.addresses(`${b.name}-secret-1`);
    const target = Object.values(bIp)[0];
    expect(target).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const script = [
      'timeout 5 wget -q -O- http://peer/ 2>/dev/null; echo own-http=$?',
      'nslookup secret >/dev/null 2>&1; echo dns-service=$?',
      `nslookup ${b.name}-secret-1 >/dev/null 2>&1; echo dns-container=$?`,
      `timeout 3 wget -q -O- http://${target}/ 2>/dev/null; echo ip-http=$?`,
    ].join('; ');
    const r = await a.ok(['exec', 'client', 'sh', '-c', script]);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('peer-a');
    expect(lines.slice(1)).toEqual(['own-http=0', 'dns-service=1', 'dns-container=1', expect.stringMatching(/^ip-http=[1-9]\d*$/)]);

    // tscompose exec ran (above, and each poll below) while the probe watched every /proc/PID/exe
    const watch = await waitFor(
      async () => {
        const r = await a.run(['exec', 'client', 'cat', '/tmp/watch.txt']);
        return r.stdout.includes('watched') && r.stdout;
      },
      30_000,
      'the exe watch to finish',
    );
    // the exec stages were seen, and each was refused (non-dumpable) until its execve
    expect(watch).toMatch(/^watched \d+ hidden [1-9]\d*\n$/);
  });
});
