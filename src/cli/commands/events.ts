import type { Command } from 'commander';
import { containerPublicId } from '../../apply/inspect.js';
import { TscError } from '../../common/errors.js';
import type { SupervisorEvent } from '../../supervisor/types.js';
import { withProject } from '../session.js';

/** One event as docker compose v2 prints it with --json. */
export interface ComposeEvent {
  time: string;
  type: 'container';
  action: string;
  id: string;
  service: string;
  attributes: Record<string, string>;
}

/** `id`: the container's public id (Docker's 64 hex), when known; else its name. */
export function composeEvent(e: SupervisorEvent, service: string, image: string, id: string = e.container): ComposeEvent {
  const attributes: Record<string, string> = { name: e.container, image };
  if (e.action === 'die' && e.status.exitCode !== null) attributes.exitCode = String(e.status.exitCode);
  if (e.action === 'health_status' && e.status.health) attributes.healthStatus = e.status.health.status;
  const action = e.action === 'health_status' && e.status.health ? `health_status: ${e.status.health.status}` : e.action;
  return { time: e.time, type: 'container', action, id, service, attributes };
}

/** `2026-01-02 10:00:00.000000 container start NAME (image=..., name=...)`, as docker compose prints. */
export function eventText(ev: ComposeEvent): string {
  const t = ev.time.replace('T', ' ').replace(/Z$/, '');
  const attrs = Object.entries(ev.attributes)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `${t} container ${ev.action} ${ev.id} (${attrs})`;
}

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('Receive real time events from containers')
    .argument('[services...]')
    .option('--json', 'Output events as a stream of json objects')
    .action(async (services: string[], o: { json?: boolean }, cmd: Command) => {
      await withProject(cmd, { lock: false, services }, async (rt) => {
        for (const s of services) if (!rt.project.services[s]) throw new TscError('NO_SUCH_SERVICE', `no such service: ${s}`);
        const sup = await rt.supervisor();
        const abort = new AbortController();
        const stop = (): void => abort.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          await sup
            .events((e) => {
              const rec = rt.state.containers[e.container] ?? Object.values(rt.state.containers).find((c) => c.name === e.container);
              const service = rec?.service ?? e.status.labels?.['com.docker.compose.service'] ?? '';
              if (services.length && !services.includes(service)) return;
              const ev = composeEvent(
                e,
                service,
                rec?.image ?? e.status.labels?.['com.docker.compose.image'] ?? '',
                rec ? containerPublicId(rec) : e.container,
              );
              process.stdout.write((o.json ? JSON.stringify(ev) : eventText(ev)) + '\n');
            }, abort.signal)
            .catch((err: unknown) => {
              if (!abort.signal.aborted) throw err;
            });
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      });
    });
}
