/**
 * The firewall record follows the network namespace, as the ruleset and ip_forward it records
 * do: tscompose run under `unshare --net` (or in a container) must not read or prune the host's
 * entries, whose bridges it cannot see, nor turn the host's ip_forward on or off.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { firewallRecordPath } from '../../../src/network/firewall.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/network/firewall.js');

it("is named by the network namespace's inode, another one for another namespace", () => {
  const own = statSync('/proc/self/ns/net').ino;
  expect(firewallRecordPath()).toBe(`/run/tscompose/firewall.net-${own}.json`);

  const script = `const m = await import(${JSON.stringify(dist)}); const { statSync } = await import('node:fs');
console.log(JSON.stringify({ path: m.firewallRecordPath(), ino: statSync('/proc/self/ns/net').ino }));`;
  const inner = JSON.parse(execFileSync('unshare', ['--net', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' })) as {
    path: string;
    ino: number;
  };
  expect(inner.ino).not.toBe(own);
  expect(inner.path).toBe(`/run/tscompose/firewall.net-${inner.ino}.json`);
});
