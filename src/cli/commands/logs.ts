import type { Command } from 'commander';
import { setMaxListeners } from 'node:events';
import { TscError } from '../../common/errors.js';
import { LogPrinter, logName } from '../log-printer.js';
import { withProject } from '../session.js';

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description('View output from containers')
    .argument('[services...]')
    .option('-f, --follow', 'Follow log output')
    .option('-n, --tail <n>', 'Number of lines to show from the end of the logs for each container', 'all')
    .option('-t, --timestamps', 'Show timestamps')
    .option('--since <time>', 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', "Don't print prefix in logs")
    .action(
      async (
        services: string[],
        o: { follow?: boolean; tail: string; timestamps?: boolean; since?: string; color?: boolean; logPrefix?: boolean },
        cmd: Command,
      ) => {
        const tail = o.tail === 'all' ? undefined : Number(o.tail);
        if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new TscError('USAGE', `invalid --tail "${o.tail}"`);
        const since = o.since ? parseSince(o.since) : undefined;
        await withProject(cmd, { lock: false, services, byName: true }, async (rt) => {
          for (const s of services) if (!rt.project.services[s]) throw new TscError('NO_SUCH_SERVICE', `no such service: ${s}`);
          const recs = Object.values(rt.state.containers)
            .filter((c) => (services.length === 0 || services.includes(c.service)) && !c.oneOff)
            .sort((a, b) => a.name.localeCompare(b.name));
          if (recs.length === 0) return;
          const sup = await rt.supervisor();
          const labels = new Map(recs.map((r) => [r.name, logName(rt.name, r)]));
          const printer = new LogPrinter(
            recs.map((r) => r.name),
            {
              timestamps: o.timestamps,
              noColor: o.color === false,
              noPrefix: o.logPrefix === false,
              label: (n) => labels.get(n) ?? n,
            },
          );
          const abort = new AbortController();
          setMaxListeners(recs.length + 10, abort.signal); // one listener per container's request
          const onSig = () => abort.abort();
          process.once('SIGINT', onSig);
          try {
            await Promise.all(
              recs.map((r) =>
                sup
                  .logs(r.name, { tail, since, follow: o.follow, untilExit: o.follow }, (e) => printer.print(r.name, e), abort.signal)
                  .catch((err) => {
                    if (!abort.signal.aborted) throw err;
                    return 0;
                  }),
              ),
            );
          } finally {
            process.off('SIGINT', onSig);
          }
        });
      },
    );
}

/** RFC 3339, a date, or a relative duration ("42m", "1h30m", "10s"). Returns epoch ms or the text. */
export function parseSince(v: string): string | number {
  const rel = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(v);
  if (rel && v !== '') {
    const ms = (Number(rel[1] ?? 0) * 3600 + Number(rel[2] ?? 0) * 60 + Number(rel[3] ?? 0)) * 1000;
    return Date.now() - ms;
  }
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (Number.isNaN(Date.parse(v))) throw new TscError('USAGE', `invalid --since "${v}"`, { hint: 'use an RFC 3339 time or a duration like 10m' });
  return v;
}
