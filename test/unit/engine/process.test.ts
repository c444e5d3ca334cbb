import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveUser } from '../../../src/engine/init/process.js';
import { capMask } from '../../../src/engine/init/caps.js';
import { makeTarget, resolveInRoot } from '../../../src/engine/init/paths.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n';
const GROUP = 'root:x:0:\napp:x:1000:\nextra:x:2000:app\nwheel:x:10:root,app\n';

describe('resolveUser', () => {
  it("defaults to root with root's groups", () => {
    expect(resolveUser('', undefined, PASSWD, GROUP)).toEqual({ uid: 0, gid: 0, groups: [0, 10], home: '/root' });
  });
  it('resolves a name with its supplementary groups', () => {
    expect(resolveUser('app', undefined, PASSWD, GROUP)).toEqual({ uid: 1000, gid: 1000, groups: [10, 1000, 2000], home: '/home/app' });
  });
  it('takes uid:gid literally and adds group_add', () => {
    expect(resolveUser('5000:5000', ['extra', '77'], PASSWD, GROUP)).toEqual({ uid: 5000, gid: 5000, groups: [77, 2000, 5000], home: undefined });
  });
  it('resolves name:group', () => {
    expect(resolveUser('app:extra', undefined, PASSWD, GROUP)).toMatchObject({ uid: 1000, gid: 2000, groups: [2000] });
  });
  it('fails clearly on unknown names', () => {
    expect(() => resolveUser('ghost', undefined, PASSWD, GROUP)).toThrow(/unable to find user ghost/);
    expect(() => resolveUser('app:ghosts', undefined, PASSWD, GROUP)).toThrow(/unable to find group ghosts/);
  });
});

describe('capMask', () => {
  it("matches the kernel bits of Docker's default set", () => {
    const docker = [
      'CHOWN',
      'DAC_OVERRIDE',
      'FSETID',
      'FOWNER',
      'MKNOD',
      'NET_RAW',
      'SETGID',
      'SETUID',
      'SETFCAP',
      'SETPCAP',
      'NET_BIND_SERVICE',
      'SYS_CHROOT',
      'KILL',
      'AUDIT_WRITE',
    ];
    expect(capMask(docker).toString(16)).toBe('a80425fb');
    expect(capMask(['cap_sys_admin'])).toBe(1n << 21n);
    expect(() => capMask(['FLY'])).toThrow(/unknown capability/);
  });
});

describe('resolveInRoot', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'tsc-root-unit-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('keeps absolute and relative symlinks inside the root', () => {
    mkdirSync(path.join(root, 'real'));
    symlinkSync('/etc', path.join(root, 'abs'));
    symlinkSync('../../../../real', path.join(root, 'rel'));
    expect(resolveInRoot(root, '/abs/passwd')).toBe(path.join(root, 'etc/passwd'));
    expect(resolveInRoot(root, '/rel/x')).toBe(path.join(root, 'real/x'));
    expect(resolveInRoot(root, '/../../etc')).toBe(path.join(root, 'etc'));
  });

  it('creates mount targets through symlinks without leaving the root', () => {
    symlinkSync('/data-real', path.join(root, 'data'));
    const t = makeTarget(root, '/data/sub', false);
    expect(t).toBe(path.join(root, 'data-real/sub'));
    expect(existsSync(t)).toBe(true);
    const f = makeTarget(root, '/etc/hosts', true);
    expect(f).toBe(path.join(root, 'etc/hosts'));
    writeFileSync(f, 'x');
  });
});
