import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { credentialsFor, parseChallenge } from '../../../src/images/auth.js';
import { selectPlatform, parsePlatform } from '../../../src/images/platform.js';
import { humanSize, imageRows } from '../../../src/cli/commands/image.js';

describe('registry auth', () => {
  it('parses bearer and basic challenges', () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
    });
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic', params: { realm: 'Registry Realm' } });
  });

  it('reads basic credentials from the docker config file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-dockercfg-'));
    try {
      mkdirSync(path.join(dir, '.docker'));
      writeFileSync(
        path.join(dir, '.docker', 'config.json'),
        JSON.stringify({
          auths: {
            'https://index.docker.io/v1/': { auth: Buffer.from('hub:secret').toString('base64') },
            'registry.example.com:5000': { auth: Buffer.from('me:p:w').toString('base64') },
          },
        }),
      );
      const env = { HOME: dir };
      expect(credentialsFor('docker.io', env)).toEqual({ username: 'hub', password: 'secret' });
      expect(credentialsFor('registry.example.com:5000', env)).toEqual({ username: 'me', password: 'p:w' });
      expect(credentialsFor('other.example.com', env)).toBeUndefined();
      expect(credentialsFor('docker.io', { HOME: path.join(dir, 'none') })).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('platform selection', () => {
  const m = (architecture: string, variant?: string, os = 'linux') => ({
    digest: `${os}-${architecture}-${variant ?? ''}`,
    size: 1,
    platform: { os, architecture, variant },
  });
  const list = [m('amd64', undefined, 'windows'), m('arm', 'v6'), m('arm', 'v7'), m('arm64', 'v8'), m('amd64')];
  it('picks the host os/arch and the variant when asked', () => {
    expect(selectPlatform(list, parsePlatform('linux/amd64'))?.digest).toBe('linux-amd64-');
    expect(selectPlatform(list, parsePlatform('linux/arm/v7'))?.digest).toBe('linux-arm-v7');
    expect(selectPlatform(list, parsePlatform('linux/arm64/v8'))?.digest).toBe('linux-arm64-v8');
    expect(selectPlatform([m('arm64')], parsePlatform('linux/arm64/v8'))?.digest).toBe('linux-arm64-');
    expect(selectPlatform(list, parsePlatform('linux/s390x'))).toBeUndefined();
  });
});

describe('image table', () => {
  it('formats sizes and rows like docker image ls', () => {
    expect(humanSize(999)).toBe('999B');
    expect(humanSize(1_982_432)).toBe('1.98MB');
    expect(humanSize(123_456_789)).toBe('123MB');
    const rows = imageRows([
      {
        id: 'sha256:' + 'a'.repeat(64),
        repoTags: ['docker.io/library/busybox:latest'],
        repoDigests: [],
        diffIds: [],
        os: 'linux',
        architecture: 'amd64',
        size: 1000,
        config: {},
      },
      { id: 'sha256:' + 'b'.repeat(64), repoTags: [], repoDigests: [], diffIds: [], os: 'linux', architecture: 'amd64', size: 0, config: {} },
    ]);
    expect(rows.map((r) => [r.repository, r.tag, r.id])).toEqual([
      ['busybox', 'latest', 'aaaaaaaaaaaa'],
      ['<none>', '<none>', 'bbbbbbbbbbbb'],
    ]);
  });
});

describe('registry auth with a malformed docker config file', () => {
  it('gives no credentials instead of failing with a TypeError', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-dockercfg-bad-'));
    try {
      const env = { DOCKER_CONFIG: dir };
      for (const cfg of [{ auths: { 'docker.io': null } }, { auths: 'x' }, { auths: { 'docker.io': { auth: 5 } } }, null]) {
        writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
        expect(credentialsFor('docker.io', env)).toBeUndefined();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
