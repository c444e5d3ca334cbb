/**
 * Before `up` changes anything: every fixed host port the plan will publish must be free (or
 * held by a container of this project that the plan replaces). A taken port is one clear error
 * naming the port, the service and, when it is one of ours, the project and service holding it.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { TscError } from '../common/errors.js';
import { findPortHolder } from '../network/index.js';
import type { Plan } from '../planner/index.js';
import type { ProjectRuntime } from './runtime.js';
import { portMappings } from './networks.js';

function tryBind(proto: 'tcp' | 'udp', host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (proto === 'tcp') {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
    } else {
      const sock = dgram.createSocket('udp4');
      sock.once('error', () => {
        sock.close();
        resolve(false);
      });
      sock.bind({ address: host, port, exclusive: true }, () => sock.close(() => resolve(true)));
    }
  });
}

export async function checkPorts(rt: ProjectRuntime, plan: Plan): Promise<void> {
  // ports our own running containers hold and will keep, or give up because the plan replaces them
  const replaced = new Set(plan.actions.filter((a) => a.kind !== 'create' && a.kind !== 'noop' && a.kind !== 'start').map((a) => a.containerId));
  const starting = plan.actions.filter((a) => a.kind === 'create' || a.kind === 'recreate' || a.kind === 'start');
  const seen = new Map<string, string>();
  for (const a of starting) {
    const s = rt.project.services[a.service];
    if (!s) continue;
    for (const m of portMappings(s)) {
      if (!m.hostPort || m.hostPortEnd) continue;
      const host = m.hostIp ?? '0.0.0.0';
      const key = `${m.proto}/${m.hostPort}`;
      const other = seen.get(key);
      if (other && other !== a.container) {
        throw new TscError(
          'NETWORK_PORT_IN_USE',
          `services "${rt.state.containers[other]?.service ?? other}" and "${s.name}" both publish host port ${m.hostPort}/${m.proto}`,
          {
            hint: 'give one of them another host port, or leave the host port out to get a free one',
          },
        );
      }
      seen.set(key, a.container);
      const holder = findPortHolder(rt.root, { proto: m.proto, hostIp: host, hostPort: m.hostPort });
      if (holder && holder.project === rt.name) {
        const ours = Object.values(rt.state.containers).find((c) => c.service === holder.service);
        if (ours && (replaced.has(ours.id) || ours.name === a.container)) continue;
      }
      if (await tryBind(m.proto, host, m.hostPort)) continue;
      const who = holder ? ` by service "${holder.service}" of tscompose project "${holder.project}"` : ' by another program';
      throw new TscError('NETWORK_PORT_IN_USE', `cannot publish port ${host}:${m.hostPort}/${m.proto} for service "${s.name}": it is already in use${who}`, {
        hint: holder ? `stop it (tscompose -p ${holder.project} down) or choose another host port` : 'free the port or choose another host port in `ports:`',
      });
    }
  }
}
