import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { distEntry } from '../../../src/common/paths.js';
import { allocateAddress, allocateSubnet, readIpam, releaseProject } from '../../../src/network/ipam.js';
import { findPortHolder, recordPorts, releaseProjectPorts } from '../../../src/network/port-registry.js';

function allocIn(root: string, who: string): Promise<string> {
  const script = `import(${JSON.stringify(distEntry('network/ipam.js'))}).then((m) => process.stdout.write(m.allocateAddress(process.argv[1], 'p', 'n', process.argv[2])))`;
  return new Promise((resolve, reject) => execFile(process.execPath, ['-e', script, root, who], (err, out) => (err ? reject(err) : resolve(out))));
}

describe('network registries', () => {
  it('hand out distinct addresses to concurrent processes (flock + atomic writes)', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'tsc-reg-'));
    try {
      allocateSubnet(root, { project: 'p', network: 'n', subnet: '10.77.0.0/24', hostRoutes: [] });
      const ips = await Promise.all(Array.from({ length: 4 }, (_, i) => allocIn(root, `c${i}`)));
      expect(new Set(ips).size).toBe(4);
      expect(Object.keys(readIpam(root).networks['p/n'].addresses).sort()).toEqual([...ips].sort());
      // idempotent for the same container
      expect(allocateAddress(root, 'p', 'n', 'c0')).toBe(ips[0]);
      expect(releaseProject(root, 'p')).toBe(1);
      expect(readIpam(root).networks).toEqual({});
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('ports: a live holder is found, a dead one is ignored, wildcard clashes with specific', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'tsc-reg-'));
    try {
      recordPorts(root, [
        { proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, project: 'a', service: 'web', pid: process.pid },
        { proto: 'udp', hostIp: '0.0.0.0', hostPort: 53, project: 'gone', service: 'dns', pid: 2 ** 22 + 1 },
      ]);
      expect(findPortHolder(root, { proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080 })).toMatchObject({ project: 'a', service: 'web' });
      expect(findPortHolder(root, { proto: 'udp', hostIp: '0.0.0.0', hostPort: 8080 })).toBeUndefined();
      expect(findPortHolder(root, { proto: 'udp', hostIp: '127.0.0.1', hostPort: 53 })).toBeUndefined();
      expect(releaseProjectPorts(root, 'a')).toBe(2); // its own entry plus the dead one swept
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
