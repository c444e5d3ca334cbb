import { configHash } from '../../../src/planner/hash.js';
import type { DependencySpec, DesiredService, ObservedContainer } from '../../../src/planner/types.js';

export const DIGEST_A = `sha256:${'a'.repeat(64)}`;
export const DIGEST_B = `sha256:${'b'.repeat(64)}`;

export function definition(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { image: 'busybox:latest', command: ['sleep', 'infinity'], environment: { NAME: name }, ...extra };
}

export function dep(condition: DependencySpec['condition'] = 'service_started', restart = false, required = true): DependencySpec {
  return { condition, restart, required };
}

export function service(name: string, opts: Partial<DesiredService> & { extra?: Record<string, unknown> } = {}): DesiredService {
  const { extra, ...rest } = opts;
  return {
    name,
    replicas: 1,
    dependsOn: {},
    definition: definition(name, extra),
    image: 'busybox:latest',
    imageDigest: DIGEST_A,
    ...rest,
  };
}

/** A container recorded from `svc` as it is now (so it is up to date unless told otherwise). */
export function container(project: string, svc: DesiredService, number: number, opts: Partial<ObservedContainer> = {}): ObservedContainer {
  return {
    id: `${project}-${svc.name}-${number}`,
    service: svc.name,
    number,
    oneOff: false,
    configHash: configHash(svc.definition),
    definition: svc.definition,
    imageDigest: svc.imageDigest,
    state: 'running',
    ...opts,
  };
}
