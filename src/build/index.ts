/**
 * The image builder's public surface: what apply and the CLI call to turn a build context and a
 * Dockerfile into an image in the local store. The builder itself lives beside this file.
 */
import { build } from './builder.js';
import type { ImageRecord, ImageStore } from '../images/index.js';

/** One image to build, in the builder's terms (apply turns a service's `build:` into this). */
export interface BuildRequest {
  /** absolute path of the build context directory */
  context: string;
  /** Dockerfile path, absolute or relative to `context` (default "Dockerfile"); ignored when `dockerfileInline` is set */
  dockerfile?: string;
  /** the Dockerfile's text (`build.dockerfile_inline`) */
  dockerfileInline?: string;
  /** build arguments (`build.args` then `--build-arg`); a null value means "take it from the environment of tscompose" as Compose does */
  args: Record<string, string | null>;
  /** the stage to build (`build.target`); the last stage when absent */
  target?: string;
  /** labels added to the image config */
  labels: Record<string, string>;
  /** network for RUN: "default" (a build network with egress), "none", "host" */
  network: 'default' | 'none' | 'host';
  /** do not use the step cache */
  noCache: boolean;
  /** re-pull FROM images even when they are in the store */
  pull: boolean;
  /** references to tag the result with (normalized by the store); the first is the primary name */
  tags: string[];
  /** named contexts for `FROM name` / `COPY --from=name`: name -> absolute directory */
  additionalContexts: Record<string, string>;
  /** /dev/shm size of RUN containers in bytes */
  shmSize?: number;
  /** label for messages, e.g. the service name */
  label?: string;
}

/** What the builder reports as it goes, for progress lines. */
export type BuildEvent =
  | { kind: 'step-start'; step: number; total: number; stage: string; text: string; line: number }
  | { kind: 'step-output'; step: number; line: string }
  | { kind: 'step-done'; step: number; cached: boolean; ms: number }
  | { kind: 'done'; imageId: string; ms: number };

export interface BuildOptions {
  /** the state root (images, build networks and scratch directories live under it) */
  root: string;
  images: ImageStore;
  onEvent?: (e: BuildEvent) => void;
  signal?: AbortSignal;
}

export interface BuildResult {
  image: ImageRecord;
  /** steps executed (RUN, COPY, ...) and steps taken from the cache */
  ran: number;
  cached: number;
}

/**
 * Builds one image. Errors are TscErrors naming the Dockerfile line (BUILD_FAILED:
 * `Dockerfile:7: RUN make: exit code 2`); a failed or interrupted build leaves nothing behind.
 */
export async function buildImage(req: BuildRequest, opts: BuildOptions): Promise<BuildResult> {
  return build(req, opts);
}
