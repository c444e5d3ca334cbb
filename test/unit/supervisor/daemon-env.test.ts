import { describe, expect, it } from 'vitest';
import { daemonEnv } from '../../../src/supervisor/client.js';

describe('the environment a new supervisor starts with', () => {
  it('keeps PATH, TMPDIR, the locale, the time zone and TSCOMPOSE_* switches, and nothing of the caller besides', () => {
    const env = daemonEnv({
      PATH: '/usr/bin:/bin',
      TZ: 'UTC',
      TMPDIR: '/var/tmp',
      LANG: 'C.UTF-8',
      LC_ALL: 'C',
      TSCOMPOSE_FAULT: 'trace',
      NODE_OPTIONS: '--require /tmp/x.js',
      LD_PRELOAD: '/tmp/x.so',
      HOME: '/root',
      COMPOSE_PROJECT_NAME: 'app',
      SECRET_TOKEN: 'hunter2',
    });
    expect(env).toEqual({ PATH: '/usr/bin:/bin', TZ: 'UTC', TMPDIR: '/var/tmp', LANG: 'C.UTF-8', LC_ALL: 'C', TSCOMPOSE_FAULT: 'trace' });
  });
});
