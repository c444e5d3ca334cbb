/**
 * The JSON documents that cross the image store's boundary, checked with zod before any field is
 * used: OCI and Docker schema 2 manifests, image indexes and manifest lists, image configs, the
 * `docker save` manifest.json, the OCI layout's oci-layout file, and our own index.json. A
 * malformed document becomes one TscError naming the document and the field (the caller says
 * which document and which code: IMAGE_REGISTRY, IMAGE_ARCHIVE, STATE_CORRUPT), never a
 * TypeError later. Unknown fields are kept (loose objects): the formats grow, and the config's
 * runtime part is stored as it came.
 *
 * Digests are checked as strings here; their sha256 form is checked where they become file
 * names (blobs.ts digestHex, IMAGE_DIGEST).
 */
import { z } from 'zod';

import type { TscError } from '../common/errors.js';
import { digestHex } from './blobs.js';
import type { Descriptor } from './platform.js';
import type { ImageConfig } from './types.js';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** Builds the error for a malformed document: `why` is e.g. `is not JSON` or `is malformed: field "x" ...`. */
export type Fail = (why: string, opts?: { cause?: unknown; hint?: string }) => TscError;

/** Drops null (Docker writes `"WorkingDir": null` as readily as leaving it out). */
const opt = <T extends z.ZodType>(t: T) => t.nullish().transform((v) => v ?? undefined);

const descriptor = z.looseObject({
  mediaType: z.string().optional(),
  digest: z.string(),
  size: z.number().int().nonnegative(),
  platform: z.looseObject({ os: z.string().optional(), architecture: z.string().optional(), variant: z.string().optional() }).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

const anyManifest = z.looseObject({
  schemaVersion: z.number().optional(),
  mediaType: z.string().optional(),
});

const imageIndex = z.looseObject({
  schemaVersion: z.number().optional(),
  mediaType: z.string().optional(),
  manifests: z.array(descriptor),
});

const imageManifest = z.looseObject({
  schemaVersion: z.number().optional(),
  mediaType: z.string().optional(),
  config: descriptor,
  layers: z.array(descriptor),
});

const strings = opt(z.array(z.string()));
const record = z.record(z.string(), z.looseObject({}));

/** The runtime part of an image config (Docker's field names), as the engine reads it. */
export const imageConfigSchema = z.looseObject({
  Entrypoint: z.array(z.string()).nullish(),
  Cmd: z.array(z.string()).nullish(),
  Env: z.array(z.string()).nullish(),
  WorkingDir: opt(z.string()),
  User: opt(z.string()),
  ExposedPorts: opt(record),
  Healthcheck: opt(
    z.looseObject({
      Test: strings,
      Interval: opt(z.number()),
      Timeout: opt(z.number()),
      StartPeriod: opt(z.number()),
      StartInterval: opt(z.number()),
      Retries: opt(z.number()),
    }),
  ),
  StopSignal: opt(z.string()),
  Labels: z.record(z.string(), z.string()).nullish(),
  Volumes: record.nullish(),
});

const imageConfigFile = z.looseObject({
  architecture: opt(z.string()),
  os: opt(z.string()),
  variant: opt(z.string()),
  created: opt(z.string()),
  config: opt(imageConfigSchema),
  rootfs: z.looseObject({ type: z.string().optional(), diff_ids: z.array(z.string()) }),
});

const dockerSave = z
  .array(
    z.looseObject({
      Config: z.string(),
      RepoTags: z.array(z.string()).nullish(),
      Layers: z.array(z.string()),
    }),
  )
  .min(1);

const ociLayout = z.looseObject({ imageLayoutVersion: z.string() });

/** "layers[1].size" */
function fieldPath(path: PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out;
}

/** One line for the first problem zod found (and how many more there are). */
export function describeIssues(error: z.ZodError): string {
  const [first, ...rest] = error.issues;
  const field = fieldPath(first.path);
  const msg = first.message.charAt(0).toLowerCase() + first.message.slice(1);
  return `is malformed: ${field ? `field "${field}": ` : ''}${msg}${rest.length ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : ''}`;
}

function parseJson(bytes: Buffer | string, fail: Fail): unknown {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (e) {
    throw fail('is not JSON', { cause: e });
  }
}

/** Parses JSON and checks it against `schema`, failing through `fail`. */
export function parseDocument<T extends z.ZodType>(schema: T, bytes: Buffer | string, fail: Fail): z.output<T> {
  const r = schema.safeParse(parseJson(bytes, fail));
  if (!r.success) throw fail(describeIssues(r.error));
  return r.data;
}

export type ParsedManifest =
  { kind: 'index'; mediaType: string; manifests: Descriptor[] } | { kind: 'image'; mediaType: string; config: Descriptor; layers: Descriptor[] };

/**
 * An image manifest or an index (manifest list), told apart by media type or, when the document
 * has none, by shape. `headerMediaType` is the registry's Content-Type. A Docker schema 1
 * manifest is refused with a hint.
 */
export function parseManifest(bytes: Buffer, fail: Fail, headerMediaType = ''): ParsedManifest {
  const json = parseJson(bytes, fail);
  const top = anyManifest.safeParse(json);
  if (!top.success) throw fail(describeIssues(top.error));
  const doc = top.data;
  const mediaType = doc.mediaType ?? headerMediaType;
  if (mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList || (Array.isArray(doc.manifests) && doc.config === undefined)) {
    const r = imageIndex.safeParse(json);
    if (!r.success) throw fail(describeIssues(r.error));
    return { kind: 'index', mediaType, manifests: r.data.manifests };
  }
  if (mediaType === MEDIA.dockerSchema1 || mediaType === MEDIA.dockerSchema1Signed || doc.schemaVersion === 1) {
    throw fail('uses the deprecated Docker schema 1 manifest format, which tscompose does not support', {
      hint: 'push the image again with a current Docker or skopeo',
    });
  }
  if (doc.config === undefined || !Array.isArray(doc.layers)) throw fail(`has no config or layers (media type "${mediaType}")`);
  const r = imageManifest.safeParse(json);
  if (!r.success) throw fail(describeIssues(r.error));
  return { kind: 'image', mediaType, config: r.data.config, layers: r.data.layers };
}

export interface ConfigJson {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: ImageConfig;
  rootfs: { type?: string; diff_ids: string[] };
}

/** An image config blob; every diff_id must be a sha256 digest (IMAGE_DIGEST otherwise). */
export function parseConfig(bytes: Buffer, what: string, fail: Fail): ConfigJson {
  const json = parseJson(bytes, fail);
  const rootfs = (json as { rootfs?: { diff_ids?: unknown } } | null)?.rootfs;
  if (!Array.isArray(rootfs?.diff_ids)) throw fail('lists no rootfs.diff_ids');
  const r = imageConfigFile.safeParse(json);
  if (!r.success) throw fail(describeIssues(r.error));
  const cfg: ConfigJson = r.data;
  for (const d of cfg.rootfs.diff_ids) digestHex(d, `layer diff_id in the config of ${what}`);
  return cfg;
}

/** The image index of an OCI image layout (index.json). */
export function parseImageIndex(bytes: Buffer | string, fail: Fail): Descriptor[] {
  return parseDocument(imageIndex, bytes, fail).manifests;
}

export type DockerSaveEntry = z.output<typeof dockerSave>[number];

/** `docker save`'s manifest.json: one entry per image. */
export function parseDockerSaveManifest(bytes: Buffer | string, fail: Fail): DockerSaveEntry[] {
  const json = parseJson(bytes, fail);
  if (!Array.isArray(json) || json.length === 0) throw fail('lists no images');
  const r = dockerSave.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    const n = typeof first.path[0] === 'number' ? first.path[0] : 0;
    if (first.path.length === 2 && first.code === 'invalid_type' && (first.path[1] === 'Config' || first.path[1] === 'Layers')) {
      throw fail(`entry ${n + 1} lacks Config or Layers`);
    }
    throw fail(describeIssues(r.error));
  }
  return r.data;
}

/** The oci-layout file of an OCI image layout. */
export function parseOciLayout(bytes: Buffer | string, fail: Fail): { imageLayoutVersion: string } {
  return parseDocument(ociLayout, bytes, fail);
}
