import { describe, expect, it } from 'vitest';
import { canonicalJson, configHash, diffDefinitions, hashableDefinition } from '../../../src/planner/hash.js';
import { TscError } from '../../../src/common/errors.js';

describe('canonical JSON and the config hash', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: undefined, x: null }], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[1,{"x":null,"z":1}]},"b":1}',
    );
  });

  it('gives the same hash for the same definition with keys in a different order', () => {
    const a = { image: 'busybox', environment: { A: '1', B: '2' }, ports: [{ target: 80, published: '8080', protocol: 'tcp' }], labels: { x: 'y' } };
    const b = { labels: { x: 'y' }, ports: [{ protocol: 'tcp', published: '8080', target: 80 }], environment: { B: '2', A: '1' }, image: 'busybox' };
    expect(configHash(a)).toBe(configHash(b));
    expect(configHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is a sha256 of the canonical JSON, the same in every run and on every machine', () => {
    // pinned: a change here would recreate every container of every user on upgrade
    expect(configHash({ image: 'busybox', command: ['true'] })).toBe('876d434ec6423ff8f96b2cd23b94f175dd57b8baae977d94d87adb8dc72c9137');
  });

  it('leaves out the fields Compose leaves out: build, pull_policy, scale, deploy.replicas, depends_on, profiles, x-* extensions', () => {
    const base = { image: 'busybox', deploy: { resources: { limits: { memory: '64m' } } } };
    const h = configHash(base);
    expect(configHash({ ...base, build: { context: '.' } })).toBe(h);
    expect(configHash({ ...base, pull_policy: 'always' })).toBe(h);
    expect(configHash({ ...base, scale: 3 })).toBe(h);
    expect(configHash({ ...base, depends_on: { db: { condition: 'service_started' } } })).toBe(h);
    expect(configHash({ ...base, profiles: ['debug'] })).toBe(h);
    expect(configHash({ ...base, deploy: { ...base.deploy, replicas: 4 } })).toBe(h);
    expect(configHash({ ...base, 'x-team': 'a', extensions: { 'x-owner': 'b' } })).toBe(h);
    // deploy holding only replicas is the same as no deploy at all
    expect(configHash({ image: 'busybox', deploy: { replicas: 2 } })).toBe(configHash({ image: 'busybox' }));
    expect(hashableDefinition({ image: 'x', deploy: { replicas: 2 }, profiles: ['a'] })).toEqual({ image: 'x' });
  });

  it('includes labels, environment and everything else', () => {
    const base = { image: 'busybox', labels: { tier: 'web' } };
    expect(configHash({ ...base, labels: { tier: 'db' } })).not.toBe(configHash(base));
    expect(configHash({ ...base, environment: { A: '1' } })).not.toBe(configHash(base));
    expect(configHash({ ...base, image: 'busybox:1.36' })).not.toBe(configHash(base));
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => configHash({ cpus: Number.NaN })).toThrow(TscError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/\$\.f is a function/);
  });
});

describe('definition diff', () => {
  it('names the changed paths, sorted, quoting keys that are not identifiers', () => {
    const a = { environment: { FOO: '1', BAR: '1' }, labels: { 'com.example.tier': 'a' }, ports: [{ target: 80, published: '8080' }] };
    const b = {
      environment: { FOO: '2', BAR: '1', NEW: 'x' },
      labels: { 'com.example.tier': 'b' },
      ports: [{ target: 80, published: '9090' }, { target: 443 }],
    };
    expect(diffDefinitions(a, b)).toEqual(['environment.FOO', 'environment.NEW', 'labels["com.example.tier"]', 'ports[0].published', 'ports[1]']);
  });

  it('ignores key order and the fields left out of the hash', () => {
    expect(diffDefinitions({ a: 1, b: { c: 2, d: 3 }, deploy: { replicas: 1 } }, { b: { d: 3, c: 2 }, a: 1, deploy: { replicas: 5 }, depends_on: {} })).toEqual(
      [],
    );
  });

  it('can tolerate top-level fields that are new and empty', () => {
    expect(diffDefinitions({ image: 'x' }, { image: 'x', devices: [], extra: {}, c: null }, { tolerateNewEmptyFields: true })).toEqual([]);
    expect(diffDefinitions({ image: 'x' }, { image: 'x', devices: [] })).toEqual(['devices']);
    expect(diffDefinitions({ image: 'x', devices: ['a'] }, { image: 'x', devices: [] }, { tolerateNewEmptyFields: true })).toEqual(['devices[0]']);
  });

  it('reports a removed member', () => {
    expect(diffDefinitions({ image: 'x', user: 'nobody' }, { image: 'x' })).toEqual(['user']);
  });
});
