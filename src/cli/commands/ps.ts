import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { containerPublicId, publishedPorts, summarize, SUMMARY_FIELDS, type ContainerSummary } from '../../apply/inspect.js';
import { TscError } from '../../common/errors.js';
import { withProject } from '../session.js';
import { table } from '../table.js';
import { parseTemplate, renderTemplate } from '../template.js';

interface Row {
  summary: ContainerSummary;
  /** the full 64-hex id (ps -q) */
  fullId: string;
}

async function rowsOf(cmd: Command, services: string[], all: boolean, trunc: boolean): Promise<Row[]> {
  return withProject(cmd, { lock: false, services, byName: true }, async (rt) => {
    const statuses = await rt.statuses();
    const now = Date.now();
    return Object.values(rt.state.containers)
      .filter((c) => services.length === 0 || services.includes(c.service))
      .map((c) => ({ summary: summarize(rt, c, statuses.get(c.id), trunc, now), fullId: containerPublicId(c) }))
      .filter((r) => all || r.summary.State === 'running' || r.summary.State === 'restarting' || r.summary.State === 'paused')
      .sort((a, b) => (a.summary.Name < b.summary.Name ? -1 : a.summary.Name > b.summary.Name ? 1 : 0)); // Compose sorts by name
  });
}

export function registerPs(program: Command): void {
  program
    .command('ps')
    .description('List containers')
    .argument('[services...]')
    .option('-a, --all', 'Show all stopped containers (including those created by the run command)')
    .option('--format <format>', 'Format the output: table (default), json, or a Go template ({{.Field}}, {{json .}}, "table {{.Name}}\\t{{.State}}")', 'table')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only display IDs')
    .option('--services', 'Display services')
    .option('--status <status>', 'Filter services by status (created|running|restarting|exited|dead)', (v: string, p: string[] = []) => [...p, v])
    .action(
      async (
        services: string[],
        o: { all?: boolean; format: string; trunc: boolean; quiet?: boolean; services?: boolean; status?: string[] },
        cmd: Command,
      ) => {
        const STATES = ['paused', 'restarting', 'removing', 'running', 'dead', 'created', 'exited'];
        for (const st of o.status ?? []) {
          if (!STATES.includes(st)) throw new TscError('USAGE', `invalid --status "${st}"`, { hint: `use one of ${STATES.join(', ')}` });
        }
        // parse the template before any work, so a bad one fails alone
        const format = o.format === 'json' ? '{{json .}}' : o.format;
        const template = format === 'table' || format === '' ? undefined : parseTemplate(format, SUMMARY_FIELDS);
        let rows = await rowsOf(cmd, services, !!o.all || !!o.status, o.trunc !== false);
        if (o.status) rows = rows.filter((r) => o.status!.includes(r.summary.State));
        if (o.quiet) return void process.stdout.write(rows.map((r) => r.fullId + '\n').join(''));
        if (o.services) return void process.stdout.write([...new Set(rows.map((r) => r.summary.Service))].map((s) => s + '\n').join(''));
        if (template)
          return void process.stdout.write(
            renderTemplate(
              template,
              rows.map((r) => r.summary as unknown as Record<string, unknown>),
            ),
          );
        const out = [['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS']];
        for (const { summary: r } of rows) {
          const status = r.OOMKilled && r.State === 'exited' ? `${r.Status} (OOMKilled)` : r.Status;
          out.push([r.Name, r.Image, r.Command, r.Service, r.RunningFor, status, r.Ports]);
        }
        process.stdout.write(table(out));
      },
    );

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
      await withProject(cmd, { lock: false, byName: true }, async (rt) => {
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
      await withProject(cmd, { lock: false, services, byName: true }, async (rt) => {
        const statuses = await rt.statuses();
        const { cgroupPathFor, containerCgroup } = await import('../../engine/index.js');
        for (const rec of Object.values(rt.state.containers)) {
          if (services.length && !services.includes(rec.service)) continue;
          const st = statuses.get(rec.id);
          if (st?.state !== 'running') continue;
          const pids = containerCgroup(cgroupPathFor(rt.name, rec.name)).pids();
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
