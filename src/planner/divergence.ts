/** Whether a container still matches its service, and why not. */
import { diffDefinitions, isPlainObject } from './hash.js';
import type { DesiredService, ObservedContainer } from './types.js';

function shortDigest(d: string): string {
  const m = /^([a-z0-9]+):([0-9a-f]+)$/.exec(d);
  return m ? `${m[1]}:${m[2]!.slice(0, 12)}` : d;
}

function listFields(fields: string[]): string {
  if (fields.length <= 4) return fields.join(', ');
  return `${fields.slice(0, 4).join(', ')} and ${fields.length - 4} more`;
}

export interface Divergence {
  reason: string;
  changedFields?: string[];
}

/** Why a container no longer matches its service, or undefined when it matches. */
export function divergence(service: DesiredService, desiredHash: string, c: ObservedContainer): Divergence | undefined {
  const reasons: string[] = [];
  let changedFields: string[] | undefined;
  if (c.configHash !== desiredHash) {
    if (c.definition === undefined) {
      reasons.push('configuration changed (no recorded definition to compare)');
    } else {
      // A different hash over the same definition is drift (a hash or normal form from another
      // tscompose version), not a change: compare the definitions themselves.
      const fields = diffDefinitions(c.definition, service.definition, { tolerateNewEmptyFields: true });
      if (fields.length) {
        changedFields = fields;
        reasons.push(`${listFields(fields)} changed`);
      }
    }
  }
  if (service.imageDigest && c.imageDigest && service.imageDigest !== c.imageDigest) {
    reasons.push(`image changed from ${shortDigest(c.imageDigest)} to ${shortDigest(service.imageDigest)}`);
  }
  for (const kind of ['network', 'volume'] as const) {
    const want = kind === 'network' ? service.networks : service.volumes;
    const have = kind === 'network' ? c.networks : c.volumes;
    if (!want || !have) continue;
    for (const key of Object.keys(want).sort()) {
      if (!(key in have)) reasons.push(`not attached to ${kind} "${key}"`);
      else if (have[key] !== want[key]) reasons.push(`${kind} "${key}" was recreated`);
    }
  }
  if (reasons.length === 0) return undefined;
  return { reason: reasons.join('; '), changedFields };
}

/**
 * Services whose containers this definition uses directly: `network_mode`, `ipc` and `pid` of the
 * form `service:NAME`, and `volumes_from` entries naming a service. As [field, service] pairs.
 * The model (src/compose) keeps the keys tscompose does not act on itself (`ipc`, `pid`,
 * `volumes_from`) under `unsupported`: each field is read there when it is not at the top level.
 */
export function sharedResourceRefs(definition: unknown): [string, string][] {
  if (!isPlainObject(definition)) return [];
  const unsupported = isPlainObject(definition.unsupported) ? definition.unsupported : {};
  const field = (name: string): unknown => definition[name] ?? unsupported[name];
  const out: [string, string][] = [];
  for (const name of ['network_mode', 'ipc', 'pid']) {
    const v = field(name);
    if (typeof v === 'string' && v.startsWith('service:') && v.length > 8) out.push([name, v.slice(8)]);
  }
  const volumesFrom = field('volumes_from');
  if (Array.isArray(volumesFrom)) {
    for (const v of volumesFrom) {
      if (typeof v !== 'string' || v.startsWith('container:')) continue;
      const name = v.split(':')[0];
      if (name) out.push(['volumes_from', name]);
    }
  }
  return out;
}
