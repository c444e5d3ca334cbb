import type { Command } from 'commander';
import { registerConfig } from './config.js';
import { registerVersion } from './version.js';
import { registerImage } from './image.js';

/** Every verb registers itself here; one line per command file. */
export function registerCommands(program: Command): void {
  registerVersion(program);
  registerConfig(program);
  registerImage(program);
}
