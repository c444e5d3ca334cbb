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

it('is removed with the last network of its namespace, so records of dead namespaces do not pile up', () => {
  // in namespaces of its own, which die with the child: a bridge, its rules, then none
  const script = `const m = await import(${JSON.stringify(dist)}); const { existsSync } = await import('node:fs');
const { execFileSync } = await import('node:child_process');
execFileSync('ip', ['link', 'add', 'tsc-rec-test', 'type', 'bridge']);
m.firewallAdd({ bridge: 'tsc-rec-test', subnet: '10.253.0.0/24', internal: true, owner: 'tscompose:test:rec:rec_default' });
const during = existsSync(m.firewallRecordPath());
m.firewallRemove(['tsc-rec-test']);
console.log(JSON.stringify({ during, after: existsSync(m.firewallRecordPath()) }));`;
  // a sysfs of its own: /sys/class/net shows the links of the namespace that mounted it
  const argv = ['--net', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t sysfs sysfs /sys && exec "$0" "$@"'];
  const out = JSON.parse(execFileSync('unshare', [...argv, process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' })) as {
    during: boolean;
    after: boolean;
  };
  expect(out).toEqual({ during: true, after: false });
});
