/**
 * The hostile inputs of issue 14, one builder each: small files that asked for unbounded work,
 * memory or stack. test/unit/compose/hostile.test.ts checks each ends in a clean error (or is
 * accepted), and the fuzz generator (compose-gen.ts) mixes them into its cases.
 */

/** "Billion laughs": `levels` anchors, each a list of `width` aliases of the one before. */
export function aliasBomb(levels = 9, width = 9): string {
  const lines = [`x-a0: &a0 [${Array(width).fill('"lol"').join(', ')}]`];
  for (let i = 1; i <= levels; i++)
    lines.push(
      `x-a${i}: &a${i} [${Array(width)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\nservices:\n  web:\n    image: busybox\n`;
}

/** `<<` merge keys doubling the mapping at each of `levels` levels. */
export function mergeKeyBomb(levels = 25): string {
  const lines = ['x-m0: &m0 {k0: 1}'];
  for (let i = 1; i <= levels; i++) lines.push(`x-m${i}: &m${i} {<<: [*m${i - 1}], a${i}: *m${i - 1}, b${i}: *m${i - 1}}`);
  return `${lines.join('\n')}\nservices:\n  web:\n    image: busybox\n`;
}

/** One anchor of `leaves` items repeated `times` times: a million leaves from a few kilobytes. */
export function millionLeaves(leaves = 1000, times = 1000): string {
  const items = Array.from({ length: leaves }, (_, i) => i).join(', ');
  return `x-big: &big [${items}]\nx-many: [${Array(times).fill('*big').join(', ')}]\nservices:\n  web:\n    image: busybox\n`;
}

/** `depth` nested block mappings under an x- key. */
export function deepMappings(depth = 2000): string {
  let out = 'services:\n  web:\n    image: busybox\nx-deep:\n';
  for (let i = 0; i < depth; i++) out += `${'  '.repeat(i + 1)}k${i}:\n`;
  return `${out}${'  '.repeat(depth + 1)}v\n`;
}

/** `depth` flow sequences inside one another. */
export function deepFlow(depth = 5000): string {
  return `services:\n  web:\n    image: busybox\nx-deep: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
}

/** `${A:-${A:-...}}` nested `depth` deep in one value. */
export function nestedInterpolation(depth = 10_000): string {
  return `services:\n  web:\n    image: "${'${A:-'.repeat(depth)}busybox${'}'.repeat(depth)}"\n`;
}

/** `n` services, each extending the next (s0 extends s1 ... the last has the image). */
export function extendsChain(n = 10_000): string {
  let out = 'services:\n';
  for (let i = 0; i < n - 1; i++) out += `  s${i}:\n    extends: s${i + 1}\n`;
  return `${out}  s${n - 1}:\n    image: busybox\n`;
}

/** `n` services in one depends_on chain, closed into a cycle when `cycle`. */
export function dependsOnChain(n = 10_000, cycle = false): string {
  let out = 'services:\n';
  for (let i = 0; i < n; i++) {
    const dep = i > 0 ? `s${i - 1}` : cycle ? `s${n - 1}` : undefined;
    out += `  s${i}:\n    image: busybox\n${dep ? `    depends_on: [${dep}]\n` : ''}`;
  }
  return out;
}

/** A compose file with `__proto__` as a key at `where`. */
export function protoKey(where: 'top' | 'service' | 'environment' | 'labels' | 'extends' | 'x-key' | 'services'): string {
  const base = (body: string): string => `services:\n  web:\n    image: busybox\n${body}`;
  switch (where) {
    case 'top':
      return `__proto__: {services: {evil: {image: x}}}\n${base('')}`;
    case 'services':
      return `services:\n  __proto__:\n    image: busybox\n`;
    case 'service':
      return base('    __proto__: {privileged: true}\n');
    case 'environment':
      return base('    environment:\n      __proto__: polluted\n');
    case 'labels':
      return base('    labels:\n      __proto__: polluted\n');
    case 'extends':
      return base('    extends: {service: base, __proto__: {file: /etc/passwd}}\n  base:\n    image: busybox\n');
    case 'x-key':
      return `x-stuff:\n  __proto__: {polluted: true}\n${base('')}`;
  }
}
