import type { Command } from 'commander';

type Register = (program: Command) => void;

/** Image ids that containers of any project on this state root were created from. */
async function imagesInUse(root: string): Promise<string[]> {
  const { listProjects } = await import('../../state/index.js');
  const ids: string[] = [];
  for (const p of await listProjects(root)) for (const c of Object.values(p.state?.containers ?? {})) ids.push(c.imageId);
  return ids;
}

/**
 * Every verb and the module that registers it. Only the invoked verb's module is loaded (its
 * imports are the product's heavy parts), so `tscompose ps` does not pay for `up`'s code.
 * Help and unknown verbs load them all.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  version: async () => (await import('./version.js')).registerVersion,
  config: async () => (await import('./config.js')).registerConfig,
  image: async () => {
    const { registerImage } = await import('./image.js');
    return (program) => registerImage(program, { imagesInUse });
  },
  build: async () => (await import('./build.js')).registerBuild,
  up: async () => (await import('./up.js')).registerUp,
  plan: async () => (await import('./up.js')).registerUp,
  create: async () => (await import('./up.js')).registerUp,
  down: async () => (await import('./lifecycle.js')).registerLifecycle,
  start: async () => (await import('./lifecycle.js')).registerLifecycle,
  stop: async () => (await import('./lifecycle.js')).registerLifecycle,
  restart: async () => (await import('./lifecycle.js')).registerLifecycle,
  kill: async () => (await import('./lifecycle.js')).registerLifecycle,
  pause: async () => (await import('./lifecycle.js')).registerLifecycle,
  unpause: async () => (await import('./lifecycle.js')).registerLifecycle,
  rm: async () => (await import('./lifecycle.js')).registerLifecycle,
  ps: async () => (await import('./ps.js')).registerPs,
  port: async () => (await import('./ps.js')).registerPs,
  top: async () => (await import('./ps.js')).registerPs,
  logs: async () => (await import('./logs.js')).registerLogs,
  exec: async () => (await import('./exec.js')).registerExec,
  run: async () => (await import('./run.js')).registerRun,
  pull: async () => (await import('./pull.js')).registerPull,
  images: async () => (await import('./pull.js')).registerPull,
  push: async () => (await import('./push.js')).registerPush,
  events: async () => (await import('./events.js')).registerEvents,
  ls: async () => (await import('./ls.js')).registerLs,
};

/** Global options that take a value (so the verb is found after them). */
const VALUE_OPTIONS = new Set(['-f', '--file', '-p', '--project-name', '--project-directory', '--env-file', '--profile']);

export function findVerb(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return a;
  }
  return undefined;
}

export async function registerCommands(program: Command, argv: string[] = []): Promise<void> {
  const verb = findVerb(argv);
  const wanted = verb && COMMANDS[verb] && !argv.includes('--help') && !argv.includes('-h') ? [COMMANDS[verb]!] : Object.values(COMMANDS);
  const registered = new Set<Register>();
  for (const load of wanted) {
    const register = await load();
    if (registered.has(register)) continue;
    registered.add(register);
    register(program);
  }
}
