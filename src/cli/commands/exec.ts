import type { ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import type { Command } from 'commander';
import { TscError } from '../../common/errors.js';
import { execInContainer } from '../../engine/index.js';
import { forwardSignals } from '../foreground.js';
import { collect, withProject } from '../session.js';

export function parseEnv(list: string[] | undefined): Record<string, string> {
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
        const code = await withProject(cmd, { lock: false, byName: true }, async (rt) => {
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
              seccomp: o.privileged ? undefined : run.spec.seccomp,
            },
            o.detach ? { stdin: 'ignore', stdout: openNull(), stderr: openNull() } : { stdin: 0, stdout: 1, stderr: 2 },
          );
          if (o.detach) {
            child.unref();
            return 0;
          }
          const unforward = forwardSignals({ signal: (sig) => child.kill(sig), kill: () => child.kill('SIGKILL') });
          try {
            return await exitCodeOf(child);
          } finally {
            unforward();
          }
        });
        process.exitCode = code;
      },
    );
}

function openNull(): number {
  return openSync('/dev/null', 'r+');
}
