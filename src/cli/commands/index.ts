import type { Command } from 'commander';
import { registerConfig } from './config.js';
import { registerVersion } from './version.js';
import { registerImage } from './image.js';
import { registerUp } from './up.js';
import { registerLifecycle } from './lifecycle.js';
import { registerPs } from './ps.js';
import { registerLogs } from './logs.js';
import { registerExec } from './exec.js';
import { registerPull } from './pull.js';

/** Every verb registers itself here; one line per command file. */
export function registerCommands(program: Command): void {
  registerVersion(program);
  registerConfig(program);
  registerImage(program);
  registerUp(program);
  registerLifecycle(program);
  registerPs(program);
  registerLogs(program);
  registerExec(program);
  registerPull(program);
}
