import type { ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import type { Command } from 'commander';
import { servicesInScope, applyUp, planUp, refuseProviderServices } from '../../apply/up.js';
import { buildModeFrom, ensureImages } from '../images.js';
import { TscError } from '../../common/errors.js';
import {
  containerCgroup,
  discardInitStage,
  execInContainer,
  isOomKilled,
  prepareInitStage,
  startContainer,
  type PreparedInitStage,
} from '../../engine/index.js';
import { PortProxy, type PortMapping } from '../../network/index.js';
import { collect, withProject } from '../session.js';
import { createProgress } from '../progress.js';
import { portMappings } from '../../apply/runtime.js';

function parseEnv(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of list ?? []) {
    const eq = e.indexOf('=');
    if (eq < 0) {
      const v = process.env[e];
      if (v !== undefined) out[e] = v;
    } else out[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return out;
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

function exitCodeOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null): void => {
      resolve(code ?? (signal ? 128 + (SIGNALS[signal] ?? 1) : 1));
    };
    if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode, child.signalCode);
    else child.once('exit', done);
  });
}

/**
 * Relays Ctrl-C and termination to a foreground child instead of dying before it. A container's
 * PID 1 ignores signals it has no handler for, so a second signal, or the first one left
 * unanswered for `graceMs`, kills it.
 */
function forwardSignals(child: ChildProcess, graceMs = 10_000): () => void {
  let received = 0;
  let timer: NodeJS.Timeout | undefined;
  const kill = (): void => {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  };
  const fwd = (sig: NodeJS.Signals) => () => {
    received++;
    if (received > 1) return kill();
    try {
      child.kill(sig);
    } catch {
      /* gone */
    }
    timer = setTimeout(kill, graceMs);
    timer.unref();
  };
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGINT', fwd('SIGINT')],
    ['SIGTERM', fwd('SIGTERM')],
    ['SIGHUP', fwd('SIGHUP')],
  ];
  for (const [s, h] of handlers) process.on(s, h);
  return () => {
    if (timer) clearTimeout(timer);
    for (const [s, h] of handlers) process.off(s, h);
  };
}

export function registerExec(program: Command): void {
  program
    .command('exec')
    .description('Execute a command in a running container')
    .argument('<service>')
    .argument('<command...>')
    .option('-d, --detach', 'Detached mode: Run command in the background')
    .option('-e, --env <KEY=VAL>', 'Set environment variables', collect)
    .option('-u, --user <user>', 'Run the command as this user')
    .option('-w, --workdir <dir>', 'Path to workdir directory for this command')
    .option('-T, --no-tty', 'Disable pseudo-TTY allocation')
    .option('--index <n>', 'Index of the container if service has multiple replicas', '1')
    .option('--privileged', 'Give extended privileges to the process')
    .passThroughOptions()
    .action(
      async (
        service: string,
        command: string[],
        o: { detach?: boolean; env?: string[]; user?: string; workdir?: string; tty?: boolean; index: string; privileged?: boolean },
        cmd: Command,
      ) => {
        const code = await withProject(cmd, { lock: false }, async (rt) => {
          if (!rt.project.services[service]) throw new TscError('NO_SUCH_SERVICE', `no such service: ${service}`);
          const rec = Object.values(rt.state.containers).find((c) => c.service === service && !c.oneOff && c.number === Number(o.index));
          if (!rec) throw new TscError('ENGINE_NOT_RUNNING', `service "${service}" is not running (no container number ${o.index})`);
          const st = (await rt.statuses()).get(rec.id);
          if (st?.state === 'paused') {
            throw new TscError('ENGINE_NOT_RUNNING', `container ${rec.name} of service "${service}" is paused`, {
              hint: `unpause it first: tscompose unpause ${service}`,
            });
          }
          if (st?.state !== 'running' || !st.pid) throw new TscError('ENGINE_NOT_RUNNING', `container ${rec.name} of service "${service}" is not running`);
          const run = rt.runConfig(rec);
          const p = run.spec.process;
          const env = new Map(p.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
          for (const [k, v] of Object.entries(parseEnv(o.env))) env.set(k, v);
          const child = await execInContainer(
            { pid: st.pid, cgroupPath: run.spec.cgroupPath, id: rec.name },
            {
              args: command,
              env: [...env].map(([k, v]) => `${k}=${v}`),
              tty: false,
              cwd: o.workdir ?? p.cwd,
              user: o.user ?? p.user,
              additionalGroups: p.additionalGroups,
              noNewPrivileges: p.noNewPrivileges,
              capabilities: o.privileged ? ['ALL'] : p.capabilities,
              privileged: o.privileged || run.spec.privileged,
            },
            o.detach ? { stdin: 'ignore', stdout: openNull(), stderr: openNull() } : { stdin: 0, stdout: 1, stderr: 2 },
          );
          if (o.detach) {
            child.unref();
            return 0;
          }
          const unforward = forwardSignals(child);
          try {
            return await exitCodeOf(child);
          } finally {
            unforward();
          }
        });
        process.exitCode = code;
      },
    );

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
  pull?: string;
  build?: boolean;
}

function openNull(): number {
  return openSync('/dev/null', 'r+');
}

function parsePublish(service: string, specs: string[]): PortMapping[] {
  const out: PortMapping[] = [];
  for (const spec of specs) {
    const m = /^(?:(?:([\d.]+):)?(\d*):)?(\d+)(?:\/(tcp|udp))?$/.exec(spec);
    if (!m) throw new TscError('USAGE', `invalid --publish "${spec}"`, { hint: 'use [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTO]' });
    out.push({ proto: (m[4] as 'tcp' | 'udp' | undefined) ?? 'tcp', hostIp: m[1], hostPort: m[2] ? Number(m[2]) : 0, containerPort: Number(m[3]) });
  }
  void service;
  return out;
}

async function runOneOff(cmd: Command, serviceName: string, command: string[], o: RunFlags): Promise<number> {
  if (o.detach && o.rm) {
    // the supervisor runs detached containers and has no remove-on-exit: refuse rather than leave it behind
    throw new TscError('USAGE', '`run -d --rm` is not supported: a detached one-off container is not removed when it exits', {
      hint: 'run it attached with --rm, or detached without --rm and remove it with `tscompose rm -f`',
    });
  }
  // Attached, this process is the container's parent with the terminal as its stdio: its init
  // stage (a Node process) boots while the project is loaded and the container prepared.
  const io = { stdin: 0, stdout: 1, stderr: 2 } as const;
  const prepared: PreparedInitStage | undefined = o.detach ? undefined : prepareInitStage(io);
  let handedOver = false;
  try {
    return await runOneOffIn(cmd, serviceName, command, o, prepared, () => (handedOver = true));
  } finally {
    if (prepared && !handedOver) await discardInitStage(prepared);
  }
}

async function runOneOffIn(
  cmd: Command,
  serviceName: string,
  command: string[],
  o: RunFlags,
  prepared: PreparedInitStage | undefined,
  handOver: () => void,
): Promise<number> {
  return withProject(cmd, { lock: true, services: [serviceName] }, async (rt) => {
    const s = rt.project.services[serviceName] ?? rt.project.disabledServices[serviceName];
    if (!s) throw new TscError('NO_SUCH_SERVICE', `no such service: ${serviceName}`);
    refuseProviderServices([s, ...(o.deps !== false ? servicesInScope(rt.project, [serviceName]).filter((d) => d !== s) : [])], 'run');
    rt.checkNetworks();
    rt.reassertFirewall();
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
    const ports = o.publish?.length ? parsePublish(serviceName, o.publish) : o.servicePorts ? portMappings(s) : [];
    const overrides = {
      command: command.length ? command : undefined,
      entrypoint: o.entrypoint !== undefined ? (o.entrypoint === '' ? [] : [o.entrypoint]) : undefined,
      env: parseEnv(o.env),
      user: o.user,
      workingDir: o.workdir,
      restart: 'no',
    };
    const nums = Object.values(rt.state.containers)
      .filter((c) => c.service === serviceName && c.oneOff)
      .map((c) => c.number);
    const number = nums.length ? Math.max(...nums) + 1 : 1;
    if (o.detach) {
      const rec = await rt.createContainer(s, { number, name: o.name, oneOff: true, start: true, overrides, ports, publish: ports.length > 0 });
      process.stdout.write(rec.name + '\n');
      return 0;
    }
    // attached: this process is the container's parent, with the terminal as its stdio
    const rec = await rt.createContainer(s, { number, name: o.name, oneOff: true, start: false, overrides, ports: [], publish: false });
    let proxy: PortProxy | undefined;
    try {
      const run = rt.runConfig(rec);
      if (ports.length) {
        const target = Object.values(rec.addresses ?? {})[0]?.ipv4;
        if (!target) throw new TscError('NETWORK', `service "${serviceName}" has no network address to publish ports to`);
        proxy = new PortProxy({ root: rt.root, project: rt.name });
        await proxy.publish(serviceName, rec.name, target, ports);
      }
      const started = await startContainer(run.spec, prepared!.io, { prepared });
      handOver();
      const startedAt = new Date().toISOString();
      rt.recordStart(rec, { pid: started.pid, startTime: started.startTime, startedAt });
      const unforward = forwardSignals(started.child);
      let code: number;
      try {
        code = await exitCodeOf(started.child);
      } finally {
        unforward();
      }
      if (!o.rm) {
        // the container stays, exited, as `docker compose run` leaves it: `ps -a` reads this record
        rt.recordExit(rec, {
          startedAt,
          exitCode: code,
          oomKilled: isOomKilled(run.spec.cgroupPath),
        });
      }
      return code;
    } finally {
      await proxy?.close();
      if (o.rm) await rt.removeContainer(rec, { removeVolumes: true });
      else {
        // its cgroup goes with its last process
        const cg = containerCgroup(rt.runConfig(rec).spec.cgroupPath);
        if (cg.exists()) {
          await cg.killAll();
          cg.destroy();
        }
      }
    }
  });
}
