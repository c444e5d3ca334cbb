import type { Command } from 'commander';
import { portMappings } from '../../apply/runtime.js';
import { servicesInScope, applyUp, planUp, refuseProviderServices } from '../../apply/up.js';
import { buildModeFrom, ensureImages } from '../images.js';
import { TscError } from '../../common/errors.js';
import type { PortMapping } from '../../network/index.js';
import { runAttachedHere } from '../attach.js';
import { createProgress } from '../progress.js';
import { collect, withProject } from '../session.js';
import { parseEnv } from './exec.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run a one-off command on a service')
    .argument('<service>')
    .argument('[command...]')
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('--rm', 'Automatically remove the container when it exits')
    .option('-e, --env <KEY=VAL>', 'Set environment variables', collect)
    .option('-u, --user <user>', 'Run as specified username or uid')
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .option('--entrypoint <cmd>', 'Override the entrypoint of the image')
    .option('--name <name>', 'Assign a name to the container')
    .option('--no-deps', "Don't start linked services")
    .option('-p, --publish <port>', "Publish a container's port(s) to the host", collect)
    .option('-P, --service-ports', "Run command with all service's ports enabled and mapped to the host")
    .option('-t, --tty', 'Allocate a pseudo-TTY (default: when stdin and stdout are terminals)')
    .option('-T, --no-TTY', 'Disable pseudo-TTY allocation')
    .option('-i, --interactive', 'Keep STDIN open even if not attached', true)
    .option('--pull <policy>', 'Pull image before running ("always"|"missing"|"never")', 'missing')
    .option('--build', 'Build image before starting container')
    .passThroughOptions()
    .action(async (service: string, command: string[], o: RunFlags, cmd: Command) => {
      const code = await runOneOff(cmd, service, command, o);
      process.exitCode = code;
    });
}

interface RunFlags {
  detach?: boolean;
  rm?: boolean;
  env?: string[];
  user?: string;
  workdir?: string;
  entrypoint?: string;
  name?: string;
  deps?: boolean;
  publish?: string[];
  servicePorts?: boolean;
  tty?: boolean;
  TTY?: boolean;
  pull?: string;
  build?: boolean;
}

function parsePublish(specs: string[]): PortMapping[] {
  const out: PortMapping[] = [];
  for (const spec of specs) {
    const m = /^(?:(?:([\d.]+):)?(\d*):)?(\d+)(?:\/(tcp|udp))?$/.exec(spec);
    if (!m) throw new TscError('USAGE', `invalid --publish "${spec}"`, { hint: 'use [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTO]' });
    out.push({ proto: (m[4] as 'tcp' | 'udp' | undefined) ?? 'tcp', hostIp: m[1], hostPort: m[2] ? Number(m[2]) : 0, containerPort: Number(m[3]) });
  }
  return out;
}

/** A pseudo-terminal as `docker compose run` decides: -T never, -t always, else when stdin and stdout are terminals. */
function wantsTty(o: RunFlags): boolean {
  if (o.TTY === false) return false;
  return o.tty === true || (Boolean(process.stdin.isTTY) && Boolean(process.stdout.isTTY));
}

/**
 * A one-off container of a service. Detached or attached, the project's supervisor creates,
 * starts and owns it like every other container; attached, it relays the container's stdio to
 * this process (../attach.ts) and answers with its exit code, which becomes `run`'s.
 */
async function runOneOff(cmd: Command, serviceName: string, command: string[], o: RunFlags): Promise<number> {
  if (o.detach && o.rm) {
    // a detached one-off has no client whose exit would remove it: refuse rather than leave it behind
    throw new TscError('USAGE', '`run -d --rm` is not supported: a detached one-off container is not removed when it exits', {
      hint: 'run it attached with --rm, or detached without --rm and remove it with `tscompose rm -f`',
    });
  }
  return withProject(cmd, { lock: true, services: [serviceName] }, async (rt) => {
    const s = rt.project.services[serviceName] ?? rt.project.disabledServices[serviceName];
    if (!s) throw new TscError('NO_SUCH_SERVICE', `no such service: ${serviceName}`);
    refuseProviderServices([s, ...(o.deps !== false ? servicesInScope(rt.project, [serviceName]).filter((d) => d !== s) : [])], 'run');
    rt.checkNetworks();
    rt.reassertFirewall();
    // the supervisor (a Node process to start when none runs) comes up while the container is prepared
    const supervisor = rt.supervisor();
    supervisor.catch(() => undefined);
    // what a killed `run --rm` left of its container (the supervisor removed the rest)
    await rt.pruneGoneOneOffs();
    // dependencies first, as `up` would start them
    const deps = Object.keys(s.depends_on).filter((d) => rt.project.services[d]);
    if (o.deps !== false && deps.length) {
      const opts = { services: deps, pull: (o.pull ?? 'missing') as 'missing' };
      await ensureImages(rt, servicesInScope(rt.project, deps), { pull: opts.pull, build: buildModeFrom(o) });
      const plan = await planUp(rt, opts);
      if (!plan.isEmpty) {
        const progress = createProgress();
        try {
          await applyUp(rt, plan, opts, progress);
        } finally {
          await progress.finish();
        }
      }
    }
    await ensureImages(rt, [s], { pull: (o.pull ?? 'missing') as 'missing', build: buildModeFrom(o) });
    const ports = o.publish?.length ? parsePublish(o.publish) : o.servicePorts ? portMappings(s) : [];
    const tty = !o.detach && wantsTty(o);
    const overrides = {
      command: command.length ? command : undefined,
      entrypoint: o.entrypoint !== undefined ? (o.entrypoint === '' ? [] : [o.entrypoint]) : undefined,
      env: parseEnv(o.env),
      user: o.user,
      workingDir: o.workdir,
      restart: 'no',
      ...(o.detach ? {} : { tty }),
    };
    const nums = Object.values(rt.state.containers)
      .filter((c) => c.service === serviceName && c.oneOff)
      .map((c) => c.number);
    const number = nums.length ? Math.max(...nums) + 1 : 1;
    // the supervisor publishes the ports (its port hook), as for a detached run
    const create = { number, name: o.name, oneOff: true, overrides, ports, publish: ports.length > 0 };
    if (o.detach) {
      const rec = await rt.createContainer(s, { ...create, start: true });
      process.stdout.write(rec.name + '\n');
      return 0;
    }
    const rec = await rt.createContainer(s, { ...create, start: false });
    try {
      const sup = await supervisor;
      const exit = await runAttachedHere(sup, rt.runConfig(rec), { tty, autoRemove: o.rm === true });
      // an unknown exit code (the supervisor lost the container) is a failure
      return exit.exitCode ?? 1;
    } finally {
      // the supervisor removed its part (process, cgroup, status record); the rest is the project's
      if (o.rm) await rt.removeContainer(rec, { removeVolumes: true });
    }
  });
}
