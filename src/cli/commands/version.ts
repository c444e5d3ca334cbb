import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('Show the tscompose version information')
    .option('--short', 'Shows only the version number')
    .option('--format <format>', 'Format the output (pretty|json)', 'pretty')
    .action((opts: { short?: boolean; format?: string }) => {
      const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
      if (opts.short) console.log(pkg.version);
      else if (opts.format === 'json') console.log(JSON.stringify({ version: pkg.version }));
      else console.log(`tscompose version v${pkg.version}`);
    });
}
