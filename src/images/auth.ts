/**
 * Registry authentication shared by the registry's clients: basic credentials from the Docker
 * config file, and the WWW-Authenticate challenge a registry answers with when they are needed.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

import { DOCKER_HUB } from './reference.js';

export interface Credentials {
  username: string;
  password: string;
}

const dockerConfig = z.looseObject({
  auths: z.record(z.string(), z.looseObject({ auth: z.string().optional(), username: z.string().optional(), password: z.string().optional() })).optional(),
});

/** Basic credentials for a registry from $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
export function credentialsFor(domain: string, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const dir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
  let cfg: z.output<typeof dockerConfig>;
  try {
    const r = dockerConfig.safeParse(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')));
    // an unreadable or malformed config file gives no credentials, as a missing one does
    if (!r.success) return undefined;
    cfg = r.data;
  } catch {
    return undefined;
  }
  const wanted = domain === DOCKER_HUB ? ['index.docker.io', 'docker.io', 'registry-1.docker.io'] : [domain];
  for (const [key, entry] of Object.entries(cfg.auths ?? {})) {
    const host = key.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
    if (!wanted.includes(host)) continue;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** Parses `Bearer realm="...",service="...",scope="..."` (and Basic) challenges. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*(\S+)\s*(.*)$/.exec(header);
  const scheme = (m?.[1] ?? '').toLowerCase();
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m?.[2] ?? '')) !== null) params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  return { scheme, params };
}
