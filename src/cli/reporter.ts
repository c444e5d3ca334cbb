import { TscError } from '../common/errors.js';

/** Exit codes: 1 for any user-facing failure (as docker compose), 2 for usage errors. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof TscError && err.code === 'USAGE') return 2;
  return 1;
}

/** The only place errors become text. A stack trace is shown only with --debug. */
export function formatError(err: unknown, debug: boolean): string {
  if (err instanceof TscError) {
    let out = `error: ${err.message}`;
    if (err.hint) out += `\nhint: ${err.hint}`;
    if (debug) {
      out += `\n[${err.code}] ${err.stack ?? ''}`;
      let c: unknown = err.cause;
      while (c) {
        out += `\ncaused by: ${c instanceof Error ? (c.stack ?? c.message) : String(c)}`;
        c = c instanceof Error ? c.cause : undefined;
      }
    }
    return out;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return debug ? `internal error: ${e.stack ?? e.message}` : `internal error: ${e.message}\n(this is a bug in tscompose; run again with --debug for details)`;
}
