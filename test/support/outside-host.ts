/**
 * A test host "outside" the machine, for egress tests: a network namespace of the test's own,
 * joined to the host by a veth pair with addresses from 198.18.0.0/15 (the benchmarking range),
 * with no route back to any container subnet (so a container reaches it only through NAT). It
 * runs test/support/outside-server.mjs: HTTP on :8000 and DNS on :53 answering `outside.test`.
 *
 * Before anything is sent to it, `create` checks that the host's route to it goes through the
 * test's own veth, and refuses otherwise. `remove` deletes the namespace, the veth and the
 * server process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/common/paths.js';

export interface OutsideHost {
  /** the test host's address (serves :8000 HTTP and :53 DNS) */
  address: string;
  /** the host end's address: what the test host sees as the client after masquerading */
  hostAddress: string;
  /** the name its DNS answers with `address` */
  name: string;
  /** HTTP client addresses seen so far */
  requests: string[];
  remove(): void;
}

function ip(args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export async function createOutsideHost(): Promise<OutsideHost> {
  const tag = randomInt(0, 0xffffff).toString(36);
  const ns = `tscout-${tag}`;
  const hostIf = `tscoh${tag}`.slice(0, 15);
  const net = randomInt(0, 256);
  const address = `198.18.${net}.2`;
  const hostAddress = `198.18.${net}.1`;
  let server: ChildProcess | undefined;
  const remove = () => {
    server?.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', hostIf]);
  };
  try {
    ip(['netns', 'add', ns]);
    ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    ip(['addr', 'add', `${hostAddress}/24`, 'dev', hostIf]);
    ip(['link', 'set', hostIf, 'up']);
    ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    // safety: nothing goes to the test host unless the host routes it through our own veth
    const route = ip(['-o', 'route', 'get', address]);
    if (!new RegExp(`\\bdev ${hostIf}\\b`).test(route)) throw new Error(`the route to ${address} does not go through ${hostIf}: ${route}`);
    const requests: string[] = [];
    server = spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, path.join(PACKAGE_ROOT, 'test', 'support', 'outside-server.mjs'), address, `outside.test=${address}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    server.stderr!.on('data', (d) => (err += d));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the outside server did not start: ${err}`)), 15_000);
      server!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        for (const m of out.matchAll(/^http (\S+)$/gm)) if (!requests.includes(m[1]!)) requests.push(m[1]!);
        if (out.includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      server!.on('exit', (code) => reject(new Error(`the outside server exited ${code}: ${err}`)));
    });
    return { address, hostAddress, name: 'outside.test', requests, remove };
  } catch (e) {
    remove();
    throw e;
  }
}
