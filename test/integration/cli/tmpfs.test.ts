/**
 * Issue 12: the options of the service `tmpfs:` key reach the mount (they used to be parsed a
 * second time in apply and dropped, so `/scratch:noexec` was mounted executable).
 */
import { describe, expect, it } from 'vitest';
import { CliProject } from '../../support/cli.js';

// each test's projects are brought down and checked for leftovers by test/integration/setup-file.ts
let p: CliProject | undefined;

/** The options column of the mount on `target` in the container's /proc/mounts. */
function mountOptions(procMounts: string, target: string): string[] {
  const line = procMounts.split('\n').find((l) => l.split(' ')[1] === target);
  expect(line, `${target} in /proc/mounts:\n${procMounts}`).toBeDefined();
  return line!.split(' ')[3]!.split(',');
}

describe('tmpfs options', () => {
  it('tmpfs: /scratch:noexec is mounted noexec; uid= and size= reach the mount; a plain one stays exec', async () => {
    p = await CliProject.create(`
services:
  app:
    image: busybox:latest
    command: sleep 3600
    tmpfs: ["/scratch:noexec", "/owned:uid=1234,size=1m", "/plain"]
`);
    await p.ok(['up', '-d']);
    const mounts = (await p.ok(['exec', 'app', 'cat', '/proc/mounts'])).stdout;
    expect(mountOptions(mounts, '/scratch')).toContain('noexec');
    const owned = mountOptions(mounts, '/owned');
    expect(owned).toContain('uid=1234');
    expect(owned).toContain('size=1024k');
    expect(mountOptions(mounts, '/plain')).not.toContain('noexec');
    // and the kernel enforces it: a script there does not run (126: permission denied)
    const script = (dir: string) => `printf '#!/bin/sh\\nexit 0\\n' > ${dir}/x.sh && chmod +x ${dir}/x.sh && ${dir}/x.sh`;
    expect((await p.run(['exec', 'app', 'sh', '-c', script('/scratch')])).code).toBe(126);
    expect((await p.run(['exec', 'app', 'sh', '-c', script('/plain')])).code).toBe(0);
  });
});
