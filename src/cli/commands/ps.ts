import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { portsText, publishedPorts, summarize, type ContainerSummary } from '../../apply/inspect.js';
import { TscError } from '../../common/errors.js';
import { withProject } from '../session.js';
import { table } from '../table.js';

async function summaries(cmd: Command, services: string[], all: boolean): Promise<ContainerSummary[]> {
  return withProject(cmd, { lock: false, services }, async (rt) => {
    const statuses = await rt.statuses();
    return Object.values(rt.state.containers)
      .filter((c) => services.length === 0 || services.includes(c.service))
      .map((c) => summarize(rt, c, statuses.get(c.id)))
      .filter((s) => all || s.State === 'running' || s.State === 'restarting' || s.State === 'paused')
      .sort((a, b) => a.Service.localeCompare(b.Service) || a.Number - b.Number || a.Name.localeCompare(b.Name));
  });
}

export function registerPs(program: Command): void {
  program
    .command('ps')
    .description('List containers')
    .argument('[services...]')
    .option('-a, --all', 'Show all stopped containers (including those created by the run command)')
    .option('--format <format>', 'Format the output: table or json', 'table')
    .option('-q, --quiet', 'Only display IDs')
    .option('--services', 'Display services')
    .option('--status <status>', 'Filter services by status (created|running|restarting|exited|dead)', (v: string, p: string[] = []) => [...p, v])
    .action(async (services: string[], o: { all?: boolean; format: string; quiet?: boolean; services?: boolean; status?: string[] }, cmd: Command) => {
      if (o.format !== 'table' && o.format !== 'json') throw new TscError('USAGE', `unknown format "${o.format}"`, { hint: 'use table or json' });
      const STATES = ['paused', 'restarting', 'removing', 'running', 'dead', 'created', 'exited'];
      for (const st of o.status ?? []) {
        if (!STATES.includes(st)) throw new TscError('USAGE', `invalid --status "${st}"`, { hint: `use one of ${STATES.join(', ')}` });
      }
      let rows = await summaries(cmd, services, !!o.all || !!o.status);
      if (o.status) rows = rows.filter((r) => o.status!.includes(r.State));
      if (o.quiet) return void process.stdout.write(rows.map((r) => r.ID + '\n').join(''));
      if (o.services) return void process.stdout.write([...new Set(rows.map((r) => r.Service))].map((s) => s + '\n').join(''));
      if (o.format === 'json') return void process.stdout.write(JSON.stringify(rows) + '\n');
      const out = [['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS']];
      for (const r of rows) {
        const cmdText = r.Command.length > 20 ? `"${r.Command.slice(0, 19)}…"` : `"${r.Command}"`;
        const created = new Date(r.Created * 1000).toISOString().replace('T', ' ').slice(0, 19);
        const status = r.OOMKilled && r.State === 'exited' ? `${r.Status} (OOMKilled)` : r.Status;
        out.push([r.Name, r.Image, cmdText, r.Service, created, status, portsText(r.Publishers)]);
      }
      process.stdout.write(table(out));
    });

  program
    .command('port')
    .description('Print the public port for a port binding')
    .argument('<service>')
    .argument('<private_port>', 'container port, e.g. 80 or 80/udp')
    .option('--protocol <proto>', 'tcp or udp', 'tcp')
    .option('--index <n>', 'Index of the container if service has multiple replicas', '1')
    .action(async (service: string, priv: string, o: { protocol: string; index: string }, cmd: Command) => {
      const [portText, protoFromArg] = priv.split('/');
      const proto = protoFromArg ?? o.protocol;
      const port = Number(portText);
      await withProject(cmd, { lock: false }, async (rt) => {
        if (!rt.project.services[service]) throw new TscError('NO_SUCH_SERVICE', `no such service: ${service}`);
        const rec = Object.values(rt.state.containers).find((c) => c.service === service && !c.oneOff && c.number === Number(o.index));
        if (!rec) throw new TscError('ENGINE_NOT_RUNNING', `service "${service}" has no container number ${o.index}`);
        const p = publishedPorts(rt, rec).find((x) => x.containerPort === port && x.proto === proto);
        if (!p) throw new TscError('NETWORK', `no public port for ${port}/${proto} of service "${service}"`);
        process.stdout.write(`${p.hostIp}:${p.hostPort}\n`);
      });
    });

  program
    .command('top')
    .description('Display the running processes')
    .argument('[services...]')
    .action(async (services: string[], _o: unknown, cmd: Command) => {
      await withProject(cmd, { lock: false, services }, async (rt) => {
        const statuses = await rt.statuses();
        const { containerCgroup } = await import('../../engine/index.js');
        for (const rec of Object.values(rt.state.containers)) {
          if (services.length && !services.includes(rec.service)) continue;
          const st = statuses.get(rec.id);
          if (st?.state !== 'running') continue;
          const pids = containerCgroup(`tscompose/${rt.name}/${rec.name}`).pids();
          const rows = [['UID', 'PID', 'PPID', 'CMD']];
          for (const pid of pids) {
            try {
              const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
              const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '';
              const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
              const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
              rows.push([uid, String(pid), ppid, cmdline]);
            } catch {
              /* exited meanwhile */
            }
          }
          process.stdout.write(`${rec.name}\n${table(rows)}\n`);
        }
      });
    });
}
