/**
 * Builds a minimal root filesystem from the Debian busybox-static binary: /bin/busybox plus a
 * symlink per applet, /etc/passwd and /etc/group with root, nobody and a test user. Used by the
 * engine tests (as a plain lowerdir) and by the image fixtures (packed as layers).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import path from 'node:path';

export const BUSYBOX = '/bin/busybox';

export function requireBusybox(): void {
  if (!existsSync(BUSYBOX)) {
    throw new Error('busybox-static is not installed (apt-get install busybox-static); .ci/run installs it');
  }
}

export function busyboxApplets(): string[] {
  return execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

export function makeBusyboxRootfs(dir: string): string {
  requireBusybox();
  for (const d of ['bin', 'sbin', 'etc', 'tmp', 'root', 'home/app', 'var', 'usr/bin', 'proc', 'sys', 'dev']) {
    mkdirSync(path.join(dir, d), { recursive: true });
  }
  chmodSync(path.join(dir, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, path.join(dir, 'bin/busybox'));
  chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  for (const applet of busyboxApplets()) {
    if (applet === 'busybox') continue;
    const link = path.join(dir, 'bin', applet);
    if (!existsSync(link)) symlinkSync('busybox', link);
  }
  writeFileSync(
    path.join(dir, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  writeFileSync(path.join(dir, 'etc/group'), 'root:x:0:\napp:x:1000:\nextra:x:2000:app\nnogroup:x:65534:\n');
  return dir;
}
