import type { Command } from 'commander';

import { TscError } from '../../common/errors.js';
import { renderConfig, renderEnvironment } from '../../spec/index.js';
import { loadCliProject } from '../project.js';

interface ConfigOptions {
  services?: boolean;
  volumes?: boolean;
  profiles?: boolean;
  environment?: boolean;
  format?: string;
  quiet?: boolean;
  interpolate?: boolean;
}

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('Parse, resolve and render the compose file in canonical format')
    .argument('[services...]', 'only these services (and the ones they depend on)')
    .option('--services', 'Print the service names, one per line')
    .option('--volumes', 'Print the volume names, one per line')
    .option('--profiles', 'Print the profile names, one per line')
    .option('--environment', 'Print every variable interpolation used, its value and its source')
    .option('--format <format>', 'Format the output (yaml|json)', 'yaml')
    .option('-q, --quiet', 'Only validate the configuration, print nothing')
    .option('--no-interpolate', "Don't interpolate environment variables")
    .action(async (services: string[], opts: ConfigOptions, cmd: Command) => {
      if (opts.format !== 'yaml' && opts.format !== 'json') {
        throw new TscError('USAGE', `unknown format ${JSON.stringify(opts.format)} for config`, { hint: 'use --format yaml or --format json' });
      }
      const project = await loadCliProject(cmd, { services: services.length > 0 ? services : undefined, interpolate: opts.interpolate });
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
      const out = process.stdout;
      if (opts.services) out.write(Object.keys(project.services).map((s) => s + '\n').join(''));
      else if (opts.volumes) out.write(Object.keys(project.volumes).map((s) => s + '\n').join(''));
      else if (opts.profiles) out.write(project.allProfiles.map((s) => s + '\n').join(''));
      else if (opts.environment) out.write(renderEnvironment(project));
      else out.write(renderConfig(project, opts.format));
    });
}
