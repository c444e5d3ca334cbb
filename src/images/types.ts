/** What the image store hands to the rest of the product. */

/** The runtime part of an OCI image config ("config" in the config blob), Docker's field names. */
export interface ImageConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, object>;
  Healthcheck?: {
    Test?: string[];
    Interval?: number; // nanoseconds, as in Docker
    Timeout?: number;
    StartPeriod?: number;
    StartInterval?: number;
    Retries?: number;
  };
  StopSignal?: string;
  Labels?: Record<string, string> | null;
  Volumes?: Record<string, object> | null;
}

export interface ImageRecord {
  /** "sha256:<hex>" of the config blob: the image id as Docker shows it */
  id: string;
  /** normalized references that point at it, e.g. "docker.io/library/busybox:latest" */
  repoTags: string[];
  /** "docker.io/library/busybox@sha256:..." (manifest digests) */
  repoDigests: string[];
  /** digest of the manifest this record was made from (for pulled images) */
  manifestDigest?: string;
  /** uncompressed layer digests (diff_ids), bottom-most first */
  diffIds: string[];
  os: string;
  architecture: string;
  /** total size of the unpacked layers in bytes */
  size: number;
  created?: string;
  config: ImageConfig;
}

/** An image's root filesystem as overlayfs wants it: the engine does the one mount. */
export interface RootfsLayers {
  /** layer directories, TOP-MOST FIRST (overlayfs lowerdir order) */
  lowerDirs: string[];
}

/** What a pull reports as it goes (for progress lines). */
export type PullEvent =
  | { kind: 'resolved'; ref: string; digest: string; layers: { digest: string; size: number }[] }
  | { kind: 'layer-present'; digest: string; size: number }
  | { kind: 'download-start'; digest: string; size: number }
  | { kind: 'download-resume'; digest: string; from: number }
  | { kind: 'download-progress'; digest: string; current: number; total: number }
  | { kind: 'download-done'; digest: string; size: number }
  | { kind: 'unpack-start'; digest: string }
  | { kind: 'unpack-done'; digest: string }
  | { kind: 'done'; id: string; downloaded: boolean };

/** What a push reports as it goes (for progress lines). */
export type PushEvent =
  | { kind: 'resolved'; ref: string; layers: { digest: string; size: number }[] }
  | { kind: 'layer-exists'; digest: string; size: number }
  | { kind: 'layer-mounted'; digest: string; size: number; from: string }
  | { kind: 'upload-start'; digest: string; size: number }
  | { kind: 'upload-progress'; digest: string; current: number; total: number }
  | { kind: 'upload-done'; digest: string; size: number }
  | { kind: 'done'; digest: string; size: number };
