/**
 * An attached run (`run-attached`, the CLI's `run` without -d): the supervisor starts the
 * container as any other, relays its stdio to the client (attach.ts), answers with its exit,
 * and with autoRemove removes it after that exit. A client that hangs up first (killed, or its
 * connection dropped) leaves the container running, detached as `docker compose run`'s
 * would be; with autoRemove it is killed and removed instead, so a killed `run --rm` leaves no
 * process, cgroup or status record behind.
 */
import { TscError } from '../common/errors.js';
import { Attachment, type AttachLink } from './attach.js';
import type { SupervisorCore } from './core.js';
import type { AttachedExit, AttachOptions } from './protocol.js';
import { signalNumber } from './runtime.js';
import type { ContainerStatus, RunConfig } from './types.js';

/** The supervisor's verbs an attached run uses. */
export interface AttachVerbs {
  runContainer(config: RunConfig, attach: Attachment): Promise<ContainerStatus>;
  stop(id: string, signal?: string, timeoutMs?: number): Promise<ContainerStatus>;
  remove(id: string, force?: boolean): Promise<void>;
}

export async function runAttached(
  core: SupervisorCore,
  verbs: AttachVerbs,
  config: RunConfig,
  opts: AttachOptions,
  link: AttachLink,
  requestId: number,
): Promise<AttachedExit> {
  const id = config.spec.id;
  if (opts.tty && !config.spec.process.tty) {
    throw new TscError('SUPERVISOR', `container ${id}: a terminal was asked for an attached run whose process has no tty`);
  }
  const att = new Attachment(link, requestId, opts, (sig) => {
    const m = core.containers.get(id);
    if (m?.attach !== att || m.status.state !== 'running' || !m.status.pid) return;
    let n: number;
    try {
      n = signalNumber(sig);
    } catch {
      return core.log(`container ${id}: its client sent an unknown signal ${sig}`);
    }
    core.runtime.kill(config.spec, m.status.pid, n).catch((err: Error) => core.log(`container ${id}: signal ${sig}: ${err.message}`));
  });
  const unroute = link.route(requestId, (msg) => att.input(msg));
  try {
    return await untilExit(core, verbs, config, att);
  } finally {
    unroute();
  }
}

/** Starts the attached container and waits for its exit (and its removal with autoRemove). */
async function untilExit(core: SupervisorCore, verbs: AttachVerbs, config: RunConfig, att: Attachment): Promise<AttachedExit> {
  const { link, opts, requestId } = att;
  const id = config.spec.id;
  const removeIt = async (): Promise<boolean> => {
    try {
      await verbs.remove(id, true);
      return true;
    } catch (err) {
      core.log(`container ${id}: removing the attached run's container failed: ${(err as Error).message}`);
      return false;
    }
  };
  let hungUp = false;
  link.onClose(() => {
    hungUp = true;
    att.detach();
    if (opts.autoRemove) void killAfterHangUp(core, verbs, id, att);
  });
  let status: ContainerStatus;
  try {
    status = await verbs.runContainer(config, att);
  } catch (err) {
    att.abort();
    if (opts.autoRemove) await removeIt();
    throw err;
  }
  if (!hungUp) link.send({ type: 'started', id: requestId, pid: status.pid!, startTime: status.startTime! });
  await att.exited;
  const m = core.containers.get(id);
  const last = m?.status ?? status;
  const removed = opts.autoRemove ? await removeIt() : false;
  return { exitCode: last.exitCode, status: last, removed };
}

/** A --rm run whose client went away: killed now (its run then removes it after the exit). */
async function killAfterHangUp(core: SupervisorCore, verbs: AttachVerbs, id: string, att: Attachment): Promise<void> {
  const m = core.containers.get(id);
  if (!m || m.attach !== att) return;
  if (m.starting && m.startDone) await m.startDone;
  if (m.attach !== att || !['running', 'paused'].includes(m.status.state)) return;
  core.log(`container ${id}: its attached client went away: killing it (run --rm)`);
  await verbs.stop(id, 'SIGKILL', 0).catch((err: Error) => core.log(`container ${id}: kill failed: ${err.message}`));
}
