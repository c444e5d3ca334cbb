import { describe, expect, it } from 'vitest';
import { parseReference, familiarName, isLoopbackRegistry } from '../../../src/images/reference.js';
import { TscError } from '../../../src/common/errors.js';

const D = 'sha256:' + 'ab'.repeat(32);

describe('parseReference', () => {
  it.each([
    ['busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io', 'library/busybox', '1.36', undefined, 'docker.io/library/busybox:1.36'],
    ['user/app', 'docker.io', 'user/app', 'latest', undefined, 'docker.io/user/app:latest'],
    ['docker.io/busybox', 'docker.io', 'library/busybox', 'latest', undefined, 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox:x', 'docker.io', 'library/busybox', 'x', undefined, 'docker.io/library/busybox:x'],
    ['localhost/app', 'localhost', 'app', 'latest', undefined, 'localhost/app:latest'],
    ['localhost:5000/a/b:t', 'localhost:5000', 'a/b', 't', undefined, 'localhost:5000/a/b:t'],
    ['127.0.0.1:40000/tsc/layered:v1', '127.0.0.1:40000', 'tsc/layered', 'v1', undefined, '127.0.0.1:40000/tsc/layered:v1'],
    ['ghcr.io/org/img', 'ghcr.io', 'org/img', 'latest', undefined, 'ghcr.io/org/img:latest'],
    [`busybox@${D}`, 'docker.io', 'library/busybox', undefined, D, `docker.io/library/busybox@${D}`],
    [`quay.io/x/y:1@${D}`, 'quay.io', 'x/y', '1', D, `quay.io/x/y:1@${D}`],
  ])('%s', (input, domain, path, tag, digest, normalized) => {
    const r = parseReference(input);
    expect(r).toMatchObject({ domain, path, normalized });
    expect(r.tag).toBe(tag);
    expect(r.digest).toBe(digest);
  });

  it('uses registry-1.docker.io as the Docker Hub endpoint and the domain elsewhere', () => {
    expect(parseReference('busybox').endpoint).toBe('registry-1.docker.io');
    expect(parseReference('localhost:5000/x').endpoint).toBe('localhost:5000');
  });

  it.each(['', 'UPPER/case', 'a//b', 'busybox:bad tag', 'busybox@sha256:123', 'a/b:', 'bad_-name', ':tag'])('rejects %j', (input) => {
    expect(() => parseReference(input)).toThrow(TscError);
  });

  it('shortens Docker Hub names as docker does', () => {
    expect(familiarName('docker.io/library/busybox')).toBe('busybox');
    expect(familiarName('docker.io/user/app')).toBe('user/app');
    expect(familiarName('ghcr.io/a/b')).toBe('ghcr.io/a/b');
  });

  it('treats only loopback registries as plain-HTTP', () => {
    expect(isLoopbackRegistry('127.0.0.1:5000')).toBe(true);
    expect(isLoopbackRegistry('127.3.2.1')).toBe(true);
    expect(isLoopbackRegistry('localhost:5000')).toBe(true);
    expect(isLoopbackRegistry('[::1]:5000')).toBe(true);
    expect(isLoopbackRegistry('registry-1.docker.io')).toBe(false);
    expect(isLoopbackRegistry('10.0.0.1:5000')).toBe(false);
  });
});
