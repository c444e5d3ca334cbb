import type { Command } from 'commander';
import { down, waitForDependencies } from '../../apply/up.js';
import { TscError } from '../../common/errors.js';
import { existsSync } from 'node:fs';
import { stateFile, type ContainerRecord } from '../../state/index.js';
import { createProgress } from '../progress.js';
import { fromRecord } from '../project.js';
import { secondsToMs, withProject } from '../session.js';
import type { ProjectRuntime } from '../../apply/runtime.js';

function selected(rt: ProjectRuntime, services: string[], opts: { oneOff?: boolean } = {}): ContainerRecord[] {
  for (const s of services) {
    if (!rt.project.services[s] && !rt.project.disabledServices[s]) throw new TscError('NO_SUCH_SERVICE', `no such service: ${s}`);
  }
  return Object.values(rt.state.containers)
    .filter((c) => (services.length === 0 || services.includes(c.service)) && (opts.oneOff || !c.oneOff))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Whether the project has a record (it was brought up and not brought down since). */
function hasRecord(rt: ProjectRuntime): boolean {
  return existsSync(stateFile(rt.root, rt.name));
}

/** Dependency order of services (dependencies first). */
function order(rt: ProjectRuntime, recs: ContainerRecord[], reverse: boolean): ContainerRecord[] {
  const rank = new Map<string, number>();
  const visit = (s: string, depth: number): void => {
    rank.set(s, Math.max(rank.get(s) ?? 0, depth));
    for (const d of Object.keys(rt.project.services[s]?.depends_on ?? {})) if (depth < 100) visit(d, depth + 1);
  };
  for (const s of Object.keys(rt.project.services)) visit(s, 0);
  const sorted = [...recs].sort((a, b) => (rank.get(b.service) ?? 0) - (rank.get(a.service) ?? 0));
  return reverse ? sorted.reverse() : sorted;
}

async function each(recs: ContainerRecord[], verb: string, done: string, fn: (r: ContainerRecord) => Promise<void>): Promise<void> {
  const progress = createProgress(recs.map((r) => ({ id: r.name, title: `Container ${r.name}` })));
  const errors: unknown[] = [];
  try {
    for (const r of recs) {
      progress.begin(r.name, `Container ${r.name}`);
      progress.update(r.name, verb);
      try {
        await fn(r);
        progress.done(r.name, done);
      } catch (err) {
        errors.push(err);
        progress.fail(r.name, err instanceof Error ? err.message : String(err));
      }
    }
  } finally {
    await progress.finish();
  }
  if (errors.length) throw errors[0];
}

/** Asks a yes/no question on the terminal; anything but y/yes is no. */
async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function registerLifecycle(program: Command): void {
  program
    .command('down')
    .description('Stop and remove containers and networks (named volumes only with -v)')
    .option('-v, --volumes', 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('--rmi <type>', 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds')
    .action(async (o: { volumes?: boolean; removeOrphans?: boolean; rmi?: string; timeout?: string }, cmd: Command) => {
      if (o.rmi && o.rmi !== 'local' && o.rmi !== 'all') throw new TscError('USAGE', `invalid --rmi "${o.rmi}"`, { hint: 'use local or all' });
      await withProject(cmd, { lock: true, byName: true }, async (rt) => {
        // as Compose: nothing to remove is no error (a project given by -p that does not exist, a second down)
        if (!hasRecord(rt)) process.stderr.write(`warning: no resource found to remove for project "${rt.name}"\n`);
        const images = new Set(Object.values(rt.state.containers).map((c) => c.image));
        for (const s of Object.values(rt.project.services)) if (s.image) images.add(s.image);
        // images built for services without `image:` (`<project>-<service>`) have no custom tag; a
        // service without `image:` has `build:` (a project known by its record keeps no `build:`)
        const local = new Set(Object.values(rt.project.services).flatMap((s) => (!s.image ? [rt.serviceImageRef(s)] : [])));
        for (const ref of local) if (rt.images.get(ref)) images.add(ref);
        const progress = createProgress();
        try {
          await down(rt, { volumes: o.volumes, removeOrphans: o.removeOrphans, timeoutMs: secondsToMs(o.timeout) }, progress);
        } finally {
          await progress.finish();
        }
        if (o.rmi) {
          for (const ref of images) {
            // "local": only images without a custom tag; images from a service's `image:` all have one, built `<project>-<service>` ones do not
            if (o.rmi === 'local' && !local.has(ref)) continue;
            try {
              await rt.images.remove(ref);
              process.stderr.write(` ✔ Image ${ref}  Removed\n`);
            } catch (err) {
              process.stderr.write(`warning: image ${ref} not removed: ${err instanceof Error ? err.message : String(err)}\n`);
            }
          }
        }
      });
    });

  program
    .command('stop')
    .description('Stop services')
    .argument('[services...]')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds')
    .action(async (services: string[], o: { timeout?: string }, cmd: Command) => {
      await withProject(cmd, { lock: true, services, byName: true }, async (rt) => {
        const recs = order(rt, selected(rt, services), true);
        await each(recs, 'Stopping', 'Stopped', (r) => rt.stopContainer(r, secondsToMs(o.timeout)));
      });
    });

  program
    .command('start')
    .description('Start services')
    .argument('[services...]')
    .action(async (services: string[], _o: unknown, cmd: Command) => {
      await withProject(cmd, { lock: true, services, byName: true }, async (rt) => {
        // as Compose's start of a project known only by name: nothing to start is an error
        if (fromRecord(rt.project) && Object.keys(rt.state.containers).length === 0) {
          throw new TscError('ENGINE_NOT_RUNNING', `no container found for project "${rt.name}"`, {
            hint: 'check the name with `tscompose ls -a`, or create the containers with `tscompose up -d` in the project directory',
          });
        }
        const statuses = await rt.statuses();
        const all = selected(rt, services);
        for (const s of services) {
          if (!all.some((r) => r.service === s)) {
            throw new TscError('ENGINE_NOT_RUNNING', `service "${s}" has no container to start`, { hint: `create it with \`tscompose up -d ${s}\`` });
          }
        }
        const recs = order(rt, all, false).filter((r) => statuses.get(r.id)?.state !== 'running');
        await each(recs, 'Starting', 'Started', async (r) => {
          const s = rt.project.services[r.service];
          if (s) await waitForDependencies(rt, s, {}, () => undefined);
          await rt.startRecorded(r);
        });
      });
    });

  program
    .command('restart')
    .description('Restart service containers')
    .argument('[services...]')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds')
    .option('--no-deps', "Don't restart dependent services")
    .action(async (services: string[], o: { timeout?: string }, cmd: Command) => {
      await withProject(cmd, { lock: true, services, byName: true }, async (rt) => {
        const recs = order(rt, selected(rt, services), false);
        await each(recs, 'Restarting', 'Started', async (r) => {
          await rt.stopContainer(r, secondsToMs(o.timeout));
          await rt.startRecorded(r);
        });
      });
    });

  for (const [verb, want, doing, done] of [
    ['pause', 'running', 'Pausing', 'Paused'],
    ['unpause', 'paused', 'Unpausing', 'Unpaused'],
  ] as const) {
    program
      .command(verb)
      .description(verb === 'pause' ? 'Pause services' : 'Unpause services')
      .argument('[services...]')
      .action(async (services: string[], _o: unknown, cmd: Command) => {
        await withProject(cmd, { lock: true, services, byName: true }, async (rt) => {
          const statuses = await rt.statuses();
          const recs = selected(rt, services).filter((r) => statuses.get(r.id)?.state === want);
          if (recs.length === 0) {
            process.stderr.write(`no container to ${verb}\n`);
            return;
          }
          const sup = await rt.supervisor();
          await each(recs, doing, done, async (r) => {
            await (verb === 'pause' ? sup.pause(r.name) : sup.unpause(r.name));
          });
        });
      });
  }

  program
    .command('kill')
    .description('Force stop service containers')
    .argument('[services...]')
    .option('-s, --signal <signal>', 'SIGNAL to send to the container', 'SIGKILL')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .action(async (services: string[], o: { signal: string }, cmd: Command) => {
      const signal = /^\d+$/.test(o.signal) ? o.signal : o.signal.toUpperCase().startsWith('SIG') ? o.signal.toUpperCase() : `SIG${o.signal.toUpperCase()}`;
      await withProject(cmd, { lock: true, services, byName: true }, async (rt) => {
        const statuses = await rt.statuses();
        const recs = selected(rt, services).filter((r) => statuses.get(r.id)?.state === 'running');
        if (recs.length === 0) {
          process.stderr.write('no container to kill\n');
          return;
        }
        const sup = await rt.supervisor();
        await each(recs, 'Killing', 'Killed', async (r) => {
          await sup.kill(r.name, signal);
        });
      });
    });

  program
    .command('rm')
    .description('Removes stopped service containers')
    .argument('[services...]')
    .option('-f, --force', "Don't ask to confirm removal")
    .option('-s, --stop', 'Stop the containers, if required, before removing')
    .option('-v, --volumes', 'Remove any anonymous volumes attached to containers')
    .action(async (services: string[], o: { force?: boolean; stop?: boolean; volumes?: boolean }, cmd: Command) => {
      await withProject(cmd, { lock: true, services, byName: true }, async (rt) => {
        const statuses = await rt.statuses();
        let recs = selected(rt, services, { oneOff: true });
        const running = recs.filter((r) => ['running', 'restarting'].includes(statuses.get(r.id)?.state ?? ''));
        if (running.length && !o.stop) {
          process.stderr.write(`warning: not removing running containers (use -s to stop them first): ${running.map((r) => r.name).join(', ')}\n`);
          recs = recs.filter((r) => !running.includes(r));
        }
        if (recs.length === 0) {
          process.stderr.write('No stopped containers\n');
          return;
        }
        process.stderr.write(`Going to remove ${recs.map((r) => r.name).join(', ')}\n`);
        if (!o.force && process.stdin.isTTY && !(await confirm('Are you sure? [y/N] '))) return;
        await each(recs, 'Removing', 'Removed', (r) => rt.removeContainer(r, { removeVolumes: o.volumes }));
      });
    });
}
