import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';

describe('integration environment', () => {
  it('runs as root with busybox-static installed', () => {
    expect(process.getuid?.()).toBe(0);
    expect(existsSync('/bin/busybox')).toBe(true);
  });
});
