import type { Command } from 'commander';
import { imagesToPull, pullImages, servicesInScope } from '../../apply/up.js';
import { familiarName, parseReference } from '../../images/index.js';
import { createProgress } from '../progress.js';
import { withProject } from '../session.js';

export function registerPull(program: Command): void {
  program
    .command('pull')
    .description('Pull service images')
    .argument('[services...]')
    .option('-q, --quiet', 'Pull without printing progress information')
    .option('--ignore-pull-failures', 'Pull what it can and ignores images with pull failures')
    .option('--include-deps', 'Also pull services declared as dependencies')
    .option('--ignore-buildable', 'Ignore images that can be built')
    .action(
      async (services: string[], o: { quiet?: boolean; ignorePullFailures?: boolean; includeDeps?: boolean; ignoreBuildable?: boolean }, cmd: Command) => {
        await withProject(cmd, { lock: false, services }, async (rt) => {
          // as Compose: services without an image (built ones) and pull_policy never/build are skipped
          const scope = servicesInScope(rt.project, services, !o.includeDeps).filter((s) => s.image && s.pull_policy !== 'never' && s.pull_policy !== 'build');
          const pullOpts = { ignoreBuildable: o.ignoreBuildable };
          const refs = [...imagesToPull(rt, scope, 'always', pullOpts).keys()];
          const progress = createProgress(
            refs.map((r) => ({ id: `pull:${r}`, title: `Image ${r}` })),
            { quiet: o.quiet },
          );
          try {
            if (o.ignorePullFailures) {
              for (const s of scope) await pullImages(rt, [s], 'always', progress, pullOpts).catch(() => undefined);
            } else {
              await pullImages(rt, scope, 'always', progress, pullOpts);
            }
          } finally {
            await progress.finish();
          }
        });
      },
    );

  program
    .command('images')
    .description('List images used by the created containers')
    .argument('[services...]')
    .option('-q, --quiet', 'Only display IDs')
    .option('--format <format>', 'Format the output: table or json', 'table')
    .action(async (services: string[], o: { quiet?: boolean; format: string }, cmd: Command) => {
      await withProject(cmd, { lock: false, services, byName: true }, async (rt) => {
        const rows = Object.values(rt.state.containers)
          .filter((c) => services.length === 0 || services.includes(c.service))
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((c) => {
            const img = rt.images.get(c.imageId) ?? rt.images.get(c.image);
            const ref = parseReference(c.image);
            return {
              ContainerName: c.name,
              Repository: familiarName(ref.name),
              Tag: ref.tag ?? '',
              ID: (img?.id ?? c.imageId).replace(/^sha256:/, '').slice(0, 12),
              Size: img?.size ?? 0,
            };
          });
        if (o.quiet) return void process.stdout.write([...new Set(rows.map((r) => r.ID))].map((i) => i + '\n').join(''));
        if (o.format === 'json') return void process.stdout.write(JSON.stringify(rows) + '\n');
        const table = [
          ['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'],
          ...rows.map((r) => [r.ContainerName, r.Repository, r.Tag, r.ID, `${(r.Size / 1e6).toFixed(2)}MB`]),
        ];
        const w = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
        process.stdout.write(
          table
            .map((r) =>
              r
                .map((c, i) => c.padEnd(w[i]! + 3))
                .join('')
                .trimEnd(),
            )
            .join('\n') + '\n',
        );
      });
    });
}
