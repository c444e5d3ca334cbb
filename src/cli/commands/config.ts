import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { TscError } from '../../common/errors.js';
import { configHash } from '../../planner/index.js';
import { renderConfig, renderEnvironment } from '../../compose/index.js';
import { loadCliProject } from '../project.js';

interface ConfigOptions {
  services?: boolean;
  volumes?: boolean;
  profiles?: boolean;
  environment?: boolean;
  format?: string;
  quiet?: boolean;
  interpolate?: boolean;
  images?: boolean;
  output?: string;
  hash?: string;
  consistency?: boolean;
  pathResolution?: boolean;
}

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('Parse, resolve and render the compose file in canonical format')
    .argument('[services...]', 'only these services (and the ones they depend on)')
    .option('--services', 'Print the service names, one per line')
    .option('--volumes', 'Print the volume names, one per line')
    .option('--profiles', 'Print the profile names, one per line')
    .option('--images', 'Print the image names, one per line')
    .option('--environment', 'Print every variable interpolation used, its value and its source')
    .option('--format <format>', 'Format the output (yaml|json)', 'yaml')
    .option('-q, --quiet', 'Only validate the configuration, print nothing')
    .option('--no-interpolate', "Don't interpolate environment variables")
    .option('--hash <services>', 'Print the service config hash, one "SERVICE HASH" line per service ("*" for all, or a comma-separated list)')
    .option('--no-consistency', "Don't check model consistency (may print an invalid Compose model)")
    .option('--no-path-resolution', "Don't resolve file paths")
    .option('-o, --output <path>', 'Save to file (default to stdout)')
    .action(async (services: string[], opts: ConfigOptions, cmd: Command) => {
      if (opts.format !== 'yaml' && opts.format !== 'json') {
        throw new TscError('USAGE', `unknown format ${JSON.stringify(opts.format)} for config`, { hint: 'use --format yaml or --format json' });
      }
      const hashed =
        opts.hash === undefined
          ? undefined
          : opts.hash === '*'
            ? []
            : opts.hash
                .split(',')
                .map((x) => x.trim())
                .filter(Boolean);
      const selected = hashed?.length ? hashed : services;
      const project = await loadCliProject(cmd, {
        services: selected.length > 0 ? selected : undefined,
        interpolate: opts.interpolate,
        consistency: opts.consistency,
        resolvePaths: opts.pathResolution,
      });
      if (hashed) {
        // the hash the planner records and compares (src/planner/hash.ts), sorted by name as Compose prints it
        const names = hashed.length ? hashed : Object.keys(project.services);
        const text = [...names].sort().map((n) => {
          const s = project.services[n];
          if (!s) throw new TscError('NO_SUCH_SERVICE', `no such service: ${n}`, { hint: `services: ${Object.keys(project.services).join(', ')}` });
          return `${n} ${configHash(s)}\n`;
        });
        process.stdout.write(text.join(''));
        return;
      }
      if (services.length > 0) {
        // keep only the named services and their dependencies
        const keep = new Set<string>();
        const queue = [...services];
        while (queue.length) {
          const n = queue.shift()!;
          if (keep.has(n) || !project.services[n]) continue;
          keep.add(n);
          queue.push(...Object.keys(project.services[n].depends_on));
        }
        for (const n of Object.keys(project.services)) if (!keep.has(n)) delete project.services[n];
      }
      if (opts.quiet) return;
      const lines = (xs: string[]): string => xs.map((x) => x + '\n').join('');
      let text: string;
      if (opts.services) text = lines(Object.keys(project.services));
      else if (opts.volumes) text = lines(Object.keys(project.volumes));
      else if (opts.profiles) text = lines(project.allProfiles);
      else if (opts.images) text = lines(Object.values(project.services).map((s) => s.image ?? `${project.name}-${s.name}`));
      else if (opts.environment) text = renderEnvironment(project);
      else text = renderConfig(project, opts.format as 'yaml' | 'json');
      if (opts.output) {
        const file = path.resolve(opts.output);
        try {
          writeFileSync(file, text);
        } catch (e) {
          throw new TscError('USAGE', `cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
        }
      } else {
        process.stdout.write(text);
      }
    });
}
