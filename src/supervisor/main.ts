/**
 * The supervisor process of one project: `node dist/supervisor/main.js --root ROOT --project P`.
 * Started detached by ensureSupervisor(); its stdout/stderr are the project's supervisor.log.
 * Exit codes: 0 after a shutdown request or SIGTERM/SIGINT (containers keep running), 3 when
 * another supervisor already holds the project's lock, 4 on a start-up failure with a product
 * error (logged for the client, protocol.ts `startupErrorOf`), 1 on any other start-up failure.
 */
import { isTscError } from '../common/errors.js';
import { STARTUP_ERROR_EXIT, STARTUP_ERROR_PREFIX, toWireError } from './protocol.js';
import { engineRuntime } from './engine-runtime.js';
import type { SupervisorHook } from './hooks.js';
import { networkHooks } from './network-hooks.js';
import { runSupervisor } from './server.js';

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} [${process.pid}] ${line}\n`);
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const root = arg('--root');
  const project = arg('--project');
  if (!root || !project) {
    log('usage: main.js --root ROOT --project PROJECT');
    return 2;
  }
  process.on('unhandledRejection', (err) => log(`unhandled rejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
  process.on('uncaughtException', (err) => log(`uncaught exception: ${err.stack ?? err.message}`));
  process.on('SIGHUP', () => {});
  process.on('SIGPIPE', () => {});
  let server;
  try {
    const hooks: SupervisorHook[] = networkHooks(root, project, log);
    server = await runSupervisor({ root, project, runtime: engineRuntime(), hooks, log });
  } catch (err) {
    if (isTscError(err) && err.code === 'SUPERVISOR' && /another supervisor/.test(err.message)) {
      log(err.message);
      return 3;
    }
    if (isTscError(err)) {
      log(`${STARTUP_ERROR_PREFIX}${JSON.stringify(toWireError(err))}`);
      return STARTUP_ERROR_EXIT;
    }
    log(`start-up failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
  log(`supervising project ${project} in ${root}`);
  const onSignal = (sig: string) => {
    log(`${sig}: leaving the containers running`);
    void server.close();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  await server.closed;
  log('supervisor exiting');
  return 0;
}

main().then((code) => process.exit(code));
