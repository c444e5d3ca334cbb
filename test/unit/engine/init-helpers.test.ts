import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { finalEnv, lookPath } from '../../../src/engine/init/process.js';
import { checkSysctl } from '../../../src/engine/init/sysctl.js';

describe('lookPath', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-path-unit-'));
    for (const d of ['a', 'b']) mkdirSync(path.join(dir, d));
    writeFileSync(path.join(dir, 'a/tool'), 'not executable');
    writeFileSync(path.join(dir, 'b/tool'), '#!/bin/sh\n');
    chmodSync(path.join(dir, 'b/tool'), 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the first executable match in PATH order', () => {
    expect(lookPath('tool', [`PATH=${dir}/a:${dir}/b`])).toBe(`${dir}/b/tool`);
  });
  it('checks a path with a slash as given', () => {
    expect(lookPath(`${dir}/b/tool`, [])).toBe(`${dir}/b/tool`);
    expect(() => lookPath(`${dir}/a/tool`, [])).toThrow(/no such file or executable/);
  });
  it('says which PATH was searched when nothing matches', () => {
    expect(() => lookPath('missing', [`PATH=${dir}/a`])).toThrow(new RegExp(`"missing": executable file not found in \\$PATH \\(${dir}/a\\)`));
  });
});

describe('finalEnv', () => {
  it('adds HOME from the user and a default PATH only when missing', () => {
    expect(finalEnv(['A=1'], { uid: 1, gid: 1, groups: [1], home: '/home/x' })).toEqual([
      'A=1',
      'HOME=/home/x',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ]);
    expect(finalEnv(['HOME=/h', 'PATH=/p'], { uid: 0, gid: 0, groups: [0] })).toEqual(['HOME=/h', 'PATH=/p']);
  });
});

describe('checkSysctl', () => {
  it('allows namespaced sysctls and refuses host-wide ones', () => {
    expect(() => checkSysctl('net.ipv4.ip_unprivileged_port_start', false)).not.toThrow();
    expect(() => checkSysctl('kernel.shmmax', false)).not.toThrow();
    expect(() => checkSysctl('fs.mqueue.msg_max', false)).not.toThrow();
    expect(() => checkSysctl('net.core.somaxconn', true)).toThrow(/host's network namespace/);
    expect(() => checkSysctl('vm.swappiness', false)).toThrow(/not namespaced/);
    expect(() => checkSysctl('net/../../x', false)).toThrow(/invalid sysctl name/);
  });
});
