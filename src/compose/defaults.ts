/**
 * Runtime defaults Compose (and the Docker engine) apply when the file leaves a value out.
 * The model keeps such values absent, as `docker compose config` prints them; the parts that
 * act on them read these constants so every part agrees. Durations in MILLISECONDS.
 */
export const HEALTHCHECK_DEFAULTS = {
  interval: 30_000,
  timeout: 30_000,
  retries: 3,
  start_period: 0,
  start_interval: 5_000,
} as const;

/** Time between the stop signal and SIGKILL when stop_grace_period is not set. */
export const DEFAULT_STOP_GRACE_PERIOD = 10_000;

/** Signal sent to stop a container when stop_signal is not set (and the image sets none). */
export const DEFAULT_STOP_SIGNAL = 'SIGTERM';

/** Restart policy when restart is not set. */
export const DEFAULT_RESTART = 'no';
