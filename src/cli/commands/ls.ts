import type { Command } from 'commander';
import { combinedStatus, listProjectSummaries } from '../../apply/projects.js';
import { stateRoot } from '../../common/paths.js';
import { TscError } from '../../common/errors.js';
import { table } from '../table.js';

/** `ls`: the projects on this state root, as `docker compose ls` lists them. */
export function registerLs(program: Command): void {
  program
    .command('ls')
    .description('List running compose projects')
    .option('-a, --all', 'Show all projects, also those with no running container')
    .option('--format <format>', 'Format the output (table|json)', 'table')
    .option('-q, --quiet', 'Only display project names')
    .action(async (o: { all?: boolean; format: string; quiet?: boolean }) => {
      if (o.format !== 'table' && o.format !== 'json') {
        throw new TscError('USAGE', `unknown --format "${o.format}"`, { hint: 'use table or json' });
      }
      const rows = [];
      for (const p of await listProjectSummaries(stateRoot())) {
        // without -a, only what runs counts, as in Compose
        const states = o.all ? p.states : Object.fromEntries(Object.entries(p.states).filter(([s]) => s === 'running' || s === 'paused' || s === 'restarting'));
        if (!o.all && Object.keys(states).length === 0) continue;
        rows.push({ Name: p.name, Status: p.error ? `unreadable: ${p.error}` : combinedStatus(states), ConfigFiles: p.configFiles.join(',') });
      }
      if (o.quiet) process.stdout.write(rows.map((r) => r.Name + '\n').join(''));
      else if (o.format === 'json') process.stdout.write(JSON.stringify(rows) + '\n');
      else process.stdout.write(table([['NAME', 'STATUS', 'CONFIG FILES'], ...rows.map((r) => [r.Name, r.Status, r.ConfigFiles])]));
    });
}
