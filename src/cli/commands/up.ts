import type { Command } from 'commander';
import type { ProjectRuntime } from '../../apply/runtime.js';
import { applyUp, planUp, refuseProviderServices, servicesInScope, type PullPolicy, type UpOptions } from '../../apply/up.js';
import { TscError } from '../../common/errors.js';
import type { Plan } from '../../planner/index.js';
import type { ContainerRecord } from '../../state/index.js';
import { LogPrinter, logName } from '../log-printer.js';
import { buildModeFrom, ensureImages } from '../images.js';
import { createProgress } from '../progress.js';
import { collect, parseScale, secondsToMs, withProject } from '../session.js';

interface UpFlags {
  detach?: boolean;
  wait?: boolean;
  waitTimeout?: string;
  forceRecreate?: boolean;
  recreate?: boolean; // --no-recreate
  deps?: boolean; // --no-deps
  start?: boolean; // --no-start
  removeOrphans?: boolean;
  scale?: string[];
  pull?: string;
  abortOnContainerExit?: boolean;
  exitCodeFrom?: string;
  timeout?: string;
  dryRun?: boolean;
  alwaysRecreateDeps?: boolean;
  quietPull?: boolean;
  noWait?: boolean;
  build?: boolean; // --build / --no-build
}

export function planOptionsFrom(services: string[], f: UpFlags): UpOptions {
  if (f.forceRecreate && f.recreate === false) {
    throw new TscError('USAGE', '--force-recreate and --no-recreate cannot be used together');
  }
  const pull = (f.pull ?? 'missing') as PullPolicy;
  if (!['always', 'missing', 'never', 'build'].includes(pull)) {
    throw new TscError('USAGE', `invalid --pull value "${f.pull}"`, { hint: 'use always, missing or never' });
  }
  return {
    services: services.length ? services : undefined,
    scale: parseScale(f.scale),
    forceRecreate: f.forceRecreate,
    noRecreate: f.recreate === false,
    noDeps: f.deps === false,
    removeOrphans: f.removeOrphans,
    noStart: f.start === false,
    alwaysRecreateDeps: f.alwaysRecreateDeps,
    pull,
    dryRun: f.dryRun,
    wait: f.wait,
    waitTimeoutMs: secondsToMs(f.waitTimeout),
    timeoutMs: secondsToMs(f.timeout),
  };
}

function addPlanFlags(c: Command): Command {
  return c
    .argument('[services...]', 'services to start (default: all)')
    .option('--force-recreate', 'Recreate containers even if their configuration and image have not changed')
    .option('--no-recreate', "If containers already exist, don't recreate them")
    .option('--no-deps', "Don't start linked services")
    .option('--no-start', "Don't start the services after creating them")
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('--always-recreate-deps', 'Recreate dependent containers')
    .option('--scale <service=num>', 'Scale SERVICE to NUM instances (overrides deploy.replicas)', collect)
    .option('--pull <policy>', 'Pull image before running ("always"|"missing"|"never")', 'missing');
}

/** `--build`/`--no-build` on `c`; the set holds which were given (they set one value, so both are seen as they are parsed). */
function addBuildFlags(c: Command, what: string): Set<string> {
  const given = new Set<string>();
  c.option('--build', `Build images before ${what}`).option('--no-build', "Don't build an image, even if it's missing");
  c.on('option:build', () => given.add('build')).on('option:no-build', () => given.add('no-build'));
  return given;
}

export function registerUp(program: Command): void {
  const up = addPlanFlags(
    program
      .command('up')
      .description('Create and start containers (prints what it does and why)')
      .option('-d, --detach', 'Detached mode: run containers in the background')
      .option('--wait', 'Wait for services to be running|healthy. Implies detached mode.')
      .option('--wait-timeout <seconds>', 'Maximum duration to wait for the project to be running|healthy')
      .option('--abort-on-container-exit', 'Stops all containers if any container was stopped. Incompatible with -d')
      .option('--exit-code-from <service>', 'Return the exit code of the selected service container. Implies --abort-on-container-exit')
      .option('-t, --timeout <seconds>', 'Use this timeout in seconds for container shutdown when containers are already running')
      .option('--dry-run', 'Print the plan and change nothing')
      .option('--quiet-pull', 'Pull without printing progress information')
      .option('--no-wait-lock', 'Fail at once when another tscompose is working on the project'),
  );
  const upBuild = addBuildFlags(up, 'starting containers');
  up.action((services: string[], flags: UpFlags & { waitLock?: boolean }, cmd: Command) => runUp(services, flags, upBuild, cmd));

  // `create` is `up --no-start`: pull, build what is missing, create the containers, start none
  const create = addPlanFlags(
    program
      .command('create')
      .description('Creates containers for a service (up --no-start)')
      .option('--quiet-pull', 'Pull without printing progress information'),
  );
  const createBuild = addBuildFlags(create, 'creating containers');
  create.action((services: string[], flags: UpFlags, cmd: Command) => runUp(services, { ...flags, start: false, detach: true }, createBuild, cmd));

  addPlanFlags(program.command('plan').description('Print what `up` would do and why, and change nothing')).action(
    async (services: string[], flags: UpFlags, cmd: Command) => {
      const opts = planOptionsFrom(services, flags);
      await withProject(cmd, { lock: false, services }, async (rt) => {
        const plan = await planUp(rt, opts);
        process.stdout.write(plan.toString() + '\n');
      });
    },
  );
}

async function runUp(services: string[], flags: UpFlags & { waitLock?: boolean }, buildFlags: Set<string>, cmd: Command): Promise<void> {
  if (buildFlags.size > 1) throw new TscError('USAGE', '--build and --no-build are incompatible');
  if (flags.exitCodeFrom) flags.abortOnContainerExit = true;
  if (flags.detach && flags.abortOnContainerExit) {
    throw new TscError('USAGE', '--abort-on-container-exit and --exit-code-from cannot be combined with -d/--detach');
  }
  const opts = planOptionsFrom(services, flags);
  const detach = flags.detach || flags.wait || flags.dryRun;
  const code = await withProject(cmd, { lock: !flags.dryRun, services, noWait: flags.waitLock === false }, async (rt) => {
    const scope = servicesInScope(rt.project, opts.services, opts.noDeps);
    refuseProviderServices(scope, 'up');
    if (flags.exitCodeFrom && !rt.project.services[flags.exitCodeFrom]) {
      throw new TscError('NO_SUCH_SERVICE', `--exit-code-from names "${flags.exitCodeFrom}", which is not a service of the project`);
    }
    if (!flags.dryRun) await ensureImages(rt, scope, { pull: opts.pull ?? 'missing', build: buildModeFrom(flags), quietPull: flags.quietPull });
    const plan = await planUp(rt, opts);
    if (flags.dryRun) {
      process.stdout.write(plan.toString() + '\n');
      return 0;
    }
    const items = plan.actions.filter((a) => a.kind !== 'noop').map((a) => ({ id: a.id, title: `Container ${a.container}` }));
    const progress = createProgress(items);
    try {
      await applyUp(rt, plan, opts, progress);
    } finally {
      await progress.finish();
    }
    if (detach) return 0;
    return attach(
      rt,
      plan,
      scope.map((s) => s.name),
      flags,
    );
  });
  process.exitCode = code;
}

/** Attached mode: stream the logs; Ctrl-C stops the stack (a second one kills it). */
async function attach(rt: ProjectRuntime, plan: Plan, services: string[], flags: UpFlags): Promise<number> {
  const sup = await rt.supervisor();
  const containers = (): ContainerRecord[] => Object.values(rt.state.containers).filter((c) => services.includes(c.service) && !c.oneOff);
  const label = (n: string): string => {
    const c = rt.state.containers[n] ?? Object.values(rt.state.containers).find((r) => r.name === n);
    return c ? logName(rt.name, c) : n;
  };
  const printer = new LogPrinter(
    containers().map((c) => c.name),
    { label },
  );
  const abort = new AbortController();
  const streams = containers().map((c) =>
    sup.logs(c.name, { follow: true, untilExit: !flags.abortOnContainerExit }, (e) => printer.print(c.name, e), abort.signal).catch(() => 0),
  );
  void plan;
  let exitCode = 0;
  let stopping: Promise<void> | undefined;
  const stopAll = (kill: boolean): Promise<void> => {
    const list = containers();
    return Promise.all(list.map((c) => (kill ? sup.kill(c.name, 'SIGKILL').then(() => undefined) : rt.stopContainer(c, secondsToMs(flags.timeout))))).then(
      () => undefined,
      () => undefined,
    );
  };
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('Gracefully stopping... (press Ctrl+C again to force)\n');
      stopping = stopAll(false);
    } else {
      process.stderr.write('Killing...\n');
      stopping = stopAll(true);
    }
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    if (flags.abortOnContainerExit) {
      const events = new AbortController();
      const first = await new Promise<{ name: string; code: number | null }>((resolve) => {
        void sup
          .events((ev) => {
            if (ev.action === 'die' && services.includes(ev.status.labels?.['com.docker.compose.service'] ?? '')) {
              resolve({ name: ev.container, code: ev.status.exitCode });
            }
          }, events.signal)
          .catch(() => resolve({ name: '', code: null }));
        // a container that exited before we subscribed
        void sup.list().then((sts) => {
          const gone = sts.find((s) => s.state === 'exited' && containers().some((c) => c.name === s.id));
          if (gone) resolve({ name: gone.id, code: gone.exitCode });
        });
      });
      events.abort();
      if (first.name) process.stderr.write(`${first.name} exited with code ${first.code ?? 'unknown'}\nAborting on container exit...\n`);
      stopping ??= stopAll(false);
      await stopping;
      if (flags.exitCodeFrom) {
        const target = containers().find((c) => c.service === flags.exitCodeFrom);
        const st = target ? await sup.inspect(target.name).catch(() => undefined) : undefined;
        exitCode = st?.exitCode ?? 1;
      } else {
        exitCode = first.code ?? 1;
      }
    } else {
      // the streams end when their containers exit (Ctrl-C stops them all)
      await Promise.all(streams);
      if (stopping) await stopping;
    }
  } finally {
    abort.abort();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await Promise.allSettled(streams);
  }
  return exitCode;
}
