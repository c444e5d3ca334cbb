/**
 * Image references, normalized as Docker does: `busybox` is `docker.io/library/busybox:latest`,
 * a first component with a dot or a colon (or `localhost`) names a registry, and Docker Hub is
 * reached at registry-1.docker.io although its name is docker.io.
 */
import { TscError } from '../common/errors.js';

export interface ImageReference {
  /** registry name as shown, e.g. "docker.io", "localhost:5000", "127.0.0.1:40123" */
  domain: string;
  /** repository path inside the registry, e.g. "library/busybox" */
  path: string;
  /** tag; "latest" when neither tag nor digest was given */
  tag?: string;
  /** "sha256:<hex>" when pulling by digest */
  digest?: string;
  /** "docker.io/library/busybox" */
  name: string;
  /** the host[:port] to talk to ("registry-1.docker.io" for docker.io) */
  endpoint: string;
  /** the fully normalized reference: name:tag, name@digest or name:tag@digest */
  normalized: string;
}

export const DOCKER_HUB = 'docker.io';
const HUB_ENDPOINT = 'registry-1.docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$/;

function invalid(ref: string, why: string): TscError {
  return new TscError('USAGE', `invalid image reference "${ref}": ${why}`, {
    hint: 'use NAME[:TAG][@sha256:DIGEST], e.g. busybox, busybox:1.36 or registry.example.com/team/app:v1',
  });
}

export function parseReference(ref: string): ImageReference {
  const input = ref.trim();
  if (input === '') throw invalid(ref, 'it is empty');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(ref, `"${digest}" is not a sha256 digest (sha256: followed by 64 lowercase hex digits)`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(ref, `"${tag}" is not a valid tag`);
  }
  if (rest === '') throw invalid(ref, 'the repository name is empty');
  let domain: string;
  let repoPath: string;
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    domain = first;
    repoPath = rest.slice(slash + 1);
    if (!DOMAIN.test(domain)) throw invalid(ref, `"${domain}" is not a valid registry host`);
  } else {
    domain = DOCKER_HUB;
    repoPath = rest;
  }
  if (domain === 'index.docker.io') domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !repoPath.includes('/')) repoPath = `library/${repoPath}`;
  for (const c of repoPath.split('/')) {
    if (!COMPONENT.test(c)) {
      throw invalid(ref, `"${c}" is not a valid repository name component (lowercase letters, digits and separators . _ __ -)`);
    }
  }
  if (repoPath.length + domain.length + 1 > 255) throw invalid(ref, 'the name is longer than 255 characters');
  if (tag === undefined && digest === undefined) tag = 'latest';
  const name = `${domain}/${repoPath}`;
  const normalized = `${name}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;
  return {
    domain,
    path: repoPath,
    tag,
    digest,
    name,
    endpoint: domain === DOCKER_HUB ? HUB_ENDPOINT : domain,
    normalized,
  };
}

/** The short form Docker shows: drops "docker.io/" and "library/" (for `image ls`). */
export function familiarName(name: string): string {
  if (name.startsWith('docker.io/library/')) return name.slice('docker.io/library/'.length);
  if (name.startsWith('docker.io/')) return name.slice('docker.io/'.length);
  return name;
}

/** True for hosts Docker talks to over plain HTTP without configuration: loopback addresses. */
export function isLoopbackRegistry(endpoint: string): boolean {
  let host = endpoint;
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']'));
  else if (host.includes(':')) host = host.slice(0, host.lastIndexOf(':'));
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
