import type { Command } from 'commander';
import { buildServices, parseBuildArgs } from '../../apply/build.js';
import { servicesInScope } from '../../apply/up.js';
import { createBuildReporter } from '../build-progress.js';
import { collect, withProject } from '../session.js';

interface BuildFlags {
  noCache?: boolean;
  pull?: boolean;
  quiet?: boolean;
  buildArg?: string[];
  withDependencies?: boolean;
}

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('Build or rebuild services (services without a build section are skipped)')
    .argument('[services...]', 'services to build (default: all)')
    .option('--no-cache', 'Do not use cache when building the image')
    .option('--pull', 'Always attempt to pull a newer version of the image')
    .option('-q, --quiet', "Don't print anything to STDOUT")
    .option('--build-arg <key=value>', 'Set build-time variables for services', collect)
    .option('--with-dependencies', 'Also build dependencies (transitively)')
    .action(async (services: string[], f: BuildFlags & { cache?: boolean }, cmd: Command) => {
      // parsed first: a bad --build-arg is a usage error before the project is loaded
      const args = parseBuildArgs(f.buildArg, (k) => process.env[k]);
      await withProject(cmd, { lock: false, services }, async (rt) => {
        const scope = servicesInScope(rt.project, services, !f.withDependencies).filter((s) => s.build);
        const reporter = createBuildReporter(
          scope.map((s) => s.name),
          { quiet: f.quiet },
        );
        try {
          await buildServices(rt, scope, { noCache: f.cache === false, pull: f.pull, args }, reporter);
        } finally {
          await reporter.finish();
        }
      });
    });
}
