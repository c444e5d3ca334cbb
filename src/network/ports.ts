/**
 * Published ports as a userland proxy, run by the project's supervisor in the host's network
 * namespace: a TCP listener per port piping each connection to <container ip>:<port>, and a
 * UDP socket per port with one upstream socket per client (closed after an idle timeout).
 * A set of ports is published all at once or not at all; every bound port is recorded in
 * <root>/network/ports.json so a conflict can name the project and service holding it.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { TscError } from '../common/errors.js';
import { type PortEntry, type Proto, findPortHolder, recordPorts, releasePorts } from './port-registry.js';

export interface PortMapping {
  proto: Proto;
  /** host address to listen on; '0.0.0.0' (every IPv4 address) when absent */
  hostIp?: string;
  /** 0 or absent: a free port is chosen */
  hostPort?: number;
  /** with hostPort: the first free port of hostPort..hostPortEnd is taken ("8000-8010:80") */
  hostPortEnd?: number;
  containerPort: number;
}

export interface PublishedPort {
  service: string;
  container: string;
  proto: Proto;
  hostIp: string;
  hostPort: number;
  containerPort: number;
  target: string;
}

export interface PortProxyOptions {
  root: string;
  project: string;
  /** a UDP client's upstream socket is closed after this long without traffic (30 s) */
  udpIdleMs?: number;
  /** cap on concurrent UDP clients per port (1024) */
  udpMaxFlows?: number;
}

interface Binding {
  port: PublishedPort;
  close(): Promise<void>;
}

/**
 * Expands a port range of the short syntax ("8000-8002:80-82") into one mapping per port.
 * A single container port with a host range keeps the range (the first free port is used).
 */
export function expandPortRange(r: { proto: Proto; hostIp?: string; hostPorts?: [number, number]; containerPorts: [number, number] }): PortMapping[] {
  const [c0, c1] = r.containerPorts;
  const valid = (p: number, zero = false) => Number.isInteger(p) && p >= (zero ? 0 : 1) && p <= 65535;
  if (!valid(c0) || !valid(c1) || c1 < c0) {
    throw new TscError('SPEC_INVALID', `container port range ${c0}-${c1}/${r.proto} is not valid`);
  }
  if (!r.hostPorts) {
    const out: PortMapping[] = [];
    for (let p = c0; p <= c1; p++) out.push({ proto: r.proto, hostIp: r.hostIp, hostPort: 0, containerPort: p });
    return out;
  }
  const [h0, h1] = r.hostPorts;
  if (!valid(h0, true) || !valid(h1, true) || h1 < h0) {
    throw new TscError('SPEC_INVALID', `host port range ${h0}-${h1}/${r.proto} is not valid`);
  }
  if (c0 === c1 && h1 > h0) return [{ proto: r.proto, hostIp: r.hostIp, hostPort: h0, hostPortEnd: h1, containerPort: c0 }];
  if (h1 - h0 !== c1 - c0) {
    throw new TscError('SPEC_INVALID', `host ports ${h0}-${h1} and container ports ${c0}-${c1} (${r.proto}) differ in length`);
  }
  const out: PortMapping[] = [];
  for (let i = 0; i <= c1 - c0; i++) out.push({ proto: r.proto, hostIp: r.hostIp, hostPort: h0 + i, containerPort: c0 + i });
  return out;
}

export class PortProxy {
  private readonly bindings = new Map<string, Binding[]>();
  private readonly targets = new Map<string, string>();
  private readonly udpIdleMs: number;
  private readonly udpMaxFlows: number;

  constructor(private readonly opts: PortProxyOptions) {
    this.udpIdleMs = opts.udpIdleMs ?? 30_000;
    this.udpMaxFlows = opts.udpMaxFlows ?? 1024;
  }

  /**
   * Publishes the ports of one container at `target` (its address). Binds every port or,
   * on the first failure, releases those already bound and throws.
   */
  async publish(service: string, container: string, target: string, mappings: PortMapping[]): Promise<PublishedPort[]> {
    if (this.bindings.has(container)) await this.unpublish(container);
    this.targets.set(container, target);
    const done: Binding[] = [];
    try {
      for (const m of mappings) done.push(await this.bindOne(service, container, m));
      recordPorts(
        this.opts.root,
        done.map((b) => ({
          proto: b.port.proto,
          hostIp: b.port.hostIp,
          hostPort: b.port.hostPort,
          project: this.opts.project,
          service,
          container,
          containerPort: b.port.containerPort,
          pid: process.pid,
        })),
      );
    } catch (e) {
      await Promise.all(done.map((b) => b.close()));
      this.targets.delete(container);
      throw e;
    }
    this.bindings.set(container, done);
    return done.map((b) => ({ ...b.port, target }));
  }

  /** Points a container's published ports at a new address (after it was recreated). */
  setTarget(container: string, target: string): void {
    if (!this.targets.has(container)) return;
    this.targets.set(container, target);
    for (const b of this.bindings.get(container) ?? []) b.port.target = target;
  }

  async unpublish(container: string): Promise<void> {
    const bs = this.bindings.get(container);
    if (!bs) return;
    this.bindings.delete(container);
    this.targets.delete(container);
    await Promise.all(bs.map((b) => b.close()));
    releasePorts(
      this.opts.root,
      bs.map((b) => ({ proto: b.port.proto, hostIp: b.port.hostIp, hostPort: b.port.hostPort, project: this.opts.project })),
    );
  }

  list(): PublishedPort[] {
    return [...this.bindings.values()].flat().map((b) => ({ ...b.port }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.bindings.keys()].map((c) => this.unpublish(c)));
  }

  private async bindOne(service: string, container: string, m: PortMapping): Promise<Binding> {
    const hostIp = m.hostIp || '0.0.0.0';
    if (!net.isIP(hostIp)) throw new TscError('SPEC_INVALID', `host address "${hostIp}" of a published port of ${service} is not an IP address`);
    const first = m.hostPort ?? 0;
    const last = m.hostPortEnd ?? first;
    let lastErr: unknown;
    for (let p = first; p <= last; p++) {
      const port: PublishedPort = { service, container, proto: m.proto, hostIp, hostPort: p, containerPort: m.containerPort, target: '' };
      port.target = this.targets.get(container) ?? '';
      try {
        return m.proto === 'tcp' ? await this.bindTcp(port, container) : await this.bindUdp(port, container);
      } catch (e) {
        lastErr = e;
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
      }
    }
    throw this.bindError(service, { ...m, hostIp }, first, last, lastErr);
  }

  private bindError(service: string, m: PortMapping & { hostIp: string }, first: number, last: number, e: unknown): TscError {
    const code = (e as NodeJS.ErrnoException).code;
    const range = first === last ? `${first}` : `${first}-${last}`;
    const what = `host port ${m.hostIp}:${range}/${m.proto} for service ${service} (container port ${m.containerPort})`;
    if (code === 'EADDRINUSE') {
      const holder: PortEntry | undefined = findPortHolder(this.opts.root, { proto: m.proto, hostIp: m.hostIp, hostPort: first });
      const by = holder ? `service ${holder.service} of project ${holder.project}` : 'another program on this machine';
      return new TscError('NETWORK_PORT_IN_USE', `${what} is already in use by ${by}`, {
        cause: e,
        hint: holder ? `stop it (tscompose -p ${holder.project} down) or choose another host port` : 'stop that program or choose another host port',
      });
    }
    if (code === 'EADDRNOTAVAIL') {
      return new TscError('NETWORK', `${what}: ${m.hostIp} is not an address of this machine`, { cause: e });
    }
    if (code === 'EACCES') {
      return new TscError('NETWORK', `${what}: permission denied`, { cause: e, hint: 'ports below 1024 need root' });
    }
    return new TscError('NETWORK', `${what}: ${(e as Error).message}`, { cause: e });
  }

  private bindTcp(port: PublishedPort, container: string): Promise<Binding> {
    const conns = new Set<net.Socket>();
    const server = net.createServer({ allowHalfOpen: true }, (client) => {
      const target = this.targets.get(container);
      if (!target) return client.destroy();
      const up = net.connect({ host: target, port: port.containerPort, allowHalfOpen: true });
      conns.add(client).add(up);
      const drop = () => {
        client.destroy();
        up.destroy();
        conns.delete(client);
        conns.delete(up);
      };
      client.on('error', drop);
      up.on('error', drop);
      // one side gone: finish the other gracefully so data already written still arrives
      client.on('close', () => {
        conns.delete(client);
        up.end();
      });
      up.on('close', () => {
        conns.delete(up);
        client.end();
      });
      client.pipe(up);
      up.pipe(client);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: port.hostPort, host: port.hostIp, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        port.hostPort = (server.address() as net.AddressInfo).port;
        resolve({
          port,
          close: () =>
            new Promise<void>((r) => {
              for (const c of conns) c.destroy();
              server.close(() => r());
            }),
        });
      });
    });
  }

  private bindUdp(port: PublishedPort, container: string): Promise<Binding> {
    const family = net.isIPv6(port.hostIp) ? 'udp6' : 'udp4';
    const sock = dgram.createSocket({ type: family });
    const flows = new Map<string, { up: dgram.Socket; timer: NodeJS.Timeout }>();
    const closeFlow = (key: string) => {
      const f = flows.get(key);
      if (!f) return;
      flows.delete(key);
      clearTimeout(f.timer);
      f.up.close();
    };
    sock.on('message', (msg, rinfo) => {
      const target = this.targets.get(container);
      if (!target) return;
      const key = `${rinfo.address}|${rinfo.port}`;
      let f = flows.get(key);
      if (!f) {
        if (flows.size >= this.udpMaxFlows) closeFlow(flows.keys().next().value as string);
        const up = dgram.createSocket('udp4');
        up.on('message', (reply) => {
          const cur = flows.get(key);
          if (cur) cur.timer.refresh();
          sock.send(reply, rinfo.port, rinfo.address);
        });
        up.on('error', () => closeFlow(key));
        f = { up, timer: setTimeout(() => closeFlow(key), this.udpIdleMs) };
        f.timer.unref();
        flows.set(key, f);
      } else {
        f.timer.refresh();
      }
      f.up.send(msg, port.containerPort, target);
    });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ port: port.hostPort, address: port.hostIp, exclusive: true }, () => {
        sock.off('error', reject);
        sock.on('error', () => undefined);
        port.hostPort = sock.address().port;
        resolve({
          port,
          close: () =>
            new Promise<void>((r) => {
              for (const k of [...flows.keys()]) closeFlow(k);
              sock.close(() => r());
            }),
        });
      });
    });
  }
}
