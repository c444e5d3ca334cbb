/** The `tscompose image` commands, run as a user runs them (the built CLI, its own state root). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { PACKAGE_ROOT } from '../../../src/common/paths.js';
import { archiveOf, buildOneLayer, buildThreeLayer } from '../../support/images.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';

const execFileP = promisify(execFile);
const BIN = path.join(PACKAGE_ROOT, 'bin/tscompose.js');
let tmp: string;
let root: string;
let reg: TestRegistry;

async function cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = execFileP(process.execPath, [BIN, ...args], { env: { ...process.env, TSCOMPOSE_ROOT: root }, encoding: 'utf8' });
  if (input) {
    child.child.stdin!.end(readFileSync(input));
  } else child.child.stdin!.end();
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'tsc-images-cli-'));
  root = path.join(tmp, 'root');
  buildOneLayer(path.join(tmp, 'one'));
  buildThreeLayer(path.join(tmp, 'three'), 'docker.io/tsc/three:v1');
  reg = await startRegistry();
  await reg.pushOci(path.join(tmp, 'one'), 'latest', 'tsc/pulled:1');
});

afterAll(async () => {
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('tscompose image', () => {
  it('loads (file and stdin), pulls, lists, removes and prunes', async () => {
    const load = await cli(['image', 'load', '-i', archiveOf(path.join(tmp, 'one'))]);
    expect(load).toMatchObject({ code: 0, stdout: 'Loaded image: busybox:latest\n' });
    const stdin = await cli(['image', 'load'], archiveOf(path.join(tmp, 'three')));
    expect(stdin).toMatchObject({ code: 0, stdout: 'Loaded image: tsc/three:v1\n' });

    const pull = await cli(['image', 'pull', `${reg.host}/tsc/pulled:1`]);
    expect(pull.code).toBe(0);
    expect(pull.stdout).toMatch(/[0-9a-f]{12}: Already exists/); // the loaded busybox has the same layer
    expect(pull.stdout).toMatch(/Digest: sha256:[a-f0-9]{64}/);

    const ls = await cli(['image', 'ls']);
    expect(ls.code).toBe(0);
    const lines = ls.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(
      lines
        .slice(1)
        .map((l) =>
          l
            .split(/\s{2,}/)
            .slice(0, 2)
            .join(':'),
        )
        .sort(),
    ).toEqual([`${reg.host}/tsc/pulled:1`, 'busybox:latest', 'tsc/three:v1'].sort());
    const json = JSON.parse((await cli(['image', 'ls', '--format', 'json'])).stdout) as { id: string; repoTags: string[] }[];
    expect(json).toHaveLength(2); // busybox and the pulled image are the same image
    expect((await cli(['image', 'ls', 'tsc/three'])).stdout).toMatch(/^REPOSITORY.*\ntsc\/three\s+v1\s/);
    expect((await cli(['image', 'ls', 'tsc/three:v2'])).stdout.trim().split('\n')).toHaveLength(1);
    const inspect = JSON.parse((await cli(['image', 'inspect', 'tsc/three:v1'])).stdout) as {
      config: { WorkingDir: string };
      rootfs: { lowerDirs: string[] };
    }[];
    expect(inspect[0].config.WorkingDir).toBe('/data');
    expect(inspect[0].rootfs.lowerDirs).toHaveLength(3);

    const rm = await cli(['image', 'rm', 'tsc/three:v1']);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toMatch(/^Untagged: tsc\/three:v1\nDeleted: sha256:[a-f0-9]{64}\n$/);
    const missing = await cli(['image', 'rm', 'tsc/three:v1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error: no such image: tsc/three:v1\nhint: tscompose image ls lists the images in the store\n');

    const prune = await cli(['image', 'prune', '-a']);
    expect(prune.code).toBe(0);
    expect(prune.stdout).toMatch(/Total reclaimed space: [\d.]+MB/);
    expect((await cli(['image', 'ls', '-q'])).stdout).toBe('');
  });

  it('prints one clear line for an archive that is not one', async () => {
    const r = await cli(['image', 'load', '-i', path.join(tmp, 'nothing.tar')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot load .*nothing\.tar: the file does not exist\n/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
