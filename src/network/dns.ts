/**
 * Service-discovery DNS for one project, run by the project's supervisor: one listener per
 * network on <gateway>:53 (UDP and TCP). Answers are scoped by the asking container's source
 * address: it only learns addresses on the networks it shares with the target. Known names
 * get A records (every replica), AAAA and other types get NOERROR with no answers.
 * `host.docker.internal` and `gateway.docker.internal` answer the gateway of the network asked
 * on (the host, as Docker Desktop and `extra_hosts: host-gateway` give it). Other names are
 * forwarded to the host's resolvers (over the protocol the question came on) when the asker is
 * on a network that is not internal; on internal networks, or without upstreams, they get
 * NXDOMAIN at once. Records are changed as containers start and stop, so answers follow the
 * live state.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { TscError } from '../common/errors.js';
import {
  type Answer,
  type Query,
  DnsFormatError,
  RCODE_FORMERR,
  RCODE_NOERROR,
  RCODE_NOTIMP,
  RCODE_NXDOMAIN,
  RCODE_SERVFAIL,
  TYPE_A,
  TYPE_ANY,
  TYPE_PTR,
  buildResponse,
  formErr,
  truncateAnswer,
  parseQuery,
} from './dns-packet.js';

export interface DnsEntry {
  /** compose network name */
  network: string;
  address: string;
  /** names answered with this address: service name, container name, aliases */
  names: string[];
}

export interface DnsServerOptions {
  /**
   * upstream resolvers (IPv4) for names we do not know, or a function asked at each forward
   * (the host's resolv.conf can change while the supervisor runs); empty = answer NXDOMAIN
   */
  upstreams?: string[] | (() => string[]);
  /** TTL of our answers in seconds (0: clients must not cache, as records follow live state) */
  ttl?: number;
  /** listening port, 53 unless a test says otherwise */
  port?: number;
}

interface Listener {
  gateway: string;
  /** an internal network's containers get no answers from outside */
  internal: boolean;
  udp: dgram.Socket;
  tcp: net.Server;
  conns: Set<net.Socket>;
}

/**
 * A UDP answer larger than 512 bytes (we do not speak EDNS) is cut to whole records and
 * marked TC, so the client retries over TCP, which gets the full answer.
 */
export function truncateForUdp(reply: Buffer): Buffer {
  if (reply.length <= 512) return reply;
  return truncateAnswer(reply, 512);
}

function norm(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Names of the host as seen from a container (Docker Desktop's, and what host-gateway means). */
const HOST_NAMES = new Set(['host.docker.internal', 'gateway.docker.internal']);
const FORWARD_TIMEOUT_MS = 2000;

export class DnsServer {
  private readonly records = new Map<string, DnsEntry[]>();
  private readonly links = new Map<string, Map<string, string>>();
  private readonly listeners = new Map<string, Listener>();
  private readonly upstreams: () => string[];
  private readonly ttl: number;
  private readonly port: number;
  /** port of the upstream resolvers (53; changeable for tests) */
  forwardPort = 53;

  constructor(opts: DnsServerOptions = {}) {
    const up = opts.upstreams ?? [];
    this.upstreams = typeof up === 'function' ? up : () => up;
    this.ttl = opts.ttl ?? 0;
    this.port = opts.port ?? 53;
  }

  /** Replaces every record of a container (call when it starts or its address changes). */
  setContainer(container: string, entries: DnsEntry[]): void {
    this.records.set(
      container,
      entries.map((e) => ({ network: e.network, address: e.address, names: [...new Set(e.names.map(norm))] })),
    );
  }

  removeContainer(container: string): void {
    this.records.delete(container);
    this.links.delete(container);
  }

  /**
   * Names only `container` resolves (Compose `links:`): alias → the name it stands for, looked
   * up as if asked for that name. Replaced at each call; dropped with removeContainer.
   */
  setLinks(container: string, links: Record<string, string>): void {
    const m = new Map(Object.entries(links).map(([a, t]) => [norm(a), norm(t)] as const));
    if (m.size) this.links.set(container, m);
    else this.links.delete(container);
  }

  /** The name `n` stands for when `src` asks: its own link alias, else `n` itself. */
  private linked(src: string, n: string): string {
    for (const [c, entries] of this.records) {
      if (!entries.some((e) => e.address === src)) continue;
      const t = this.links.get(c)?.get(n);
      if (t) return t;
    }
    return n;
  }

  /**
   * Every network of the container owning the source address (a container on two networks
   * asks from one address but shares both); a stranger is scoped to the network asked on.
   */
  private scope(src: string, askedOn?: string): Set<string> {
    const nets = new Set<string>();
    for (const entries of this.records.values()) {
      if (entries.some((e) => e.address === src)) for (const e of entries) nets.add(e.network);
    }
    if (!nets.size && askedOn) nets.add(askedOn);
    return nets;
  }

  /** Addresses of `name` visible to `src`, or undefined when the name is unknown to it. */
  lookup(src: string, name: string, askedOn?: string): string[] | undefined {
    const n = this.linked(src, norm(name));
    const nets = this.scope(src, askedOn);
    const out: string[] = [];
    let known = false;
    for (const entries of this.records.values()) {
      for (const e of entries) {
        if (!nets.has(e.network) || !e.names.includes(n)) continue;
        known = true;
        if (!out.includes(e.address)) out.push(e.address);
      }
    }
    return known ? out : undefined;
  }

  private reverse(src: string, name: string, askedOn?: string): string | undefined {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(norm(name));
    if (!m) return undefined;
    const ip = `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
    const nets = this.scope(src, askedOn);
    for (const entries of this.records.values()) {
      for (const e of entries) if (nets.has(e.network) && e.address === ip && e.names.length) return e.names[e.names.length > 1 ? 1 : 0];
    }
    return undefined;
  }

  /**
   * Whether `src` may have names resolved outside: a container on at least one network that is
   * not internal (a network served without a listener, as in unit tests, counts as not internal).
   */
  private mayForward(src: string, askedOn?: string): boolean {
    const nets = this.scope(src, askedOn);
    if (!nets.size) return true;
    return [...nets].some((n) => !this.listeners.get(n)?.internal);
  }

  /** Answers one query message from `src` received on `askedOn`'s listener (over `proto`). */
  async handle(msg: Buffer, src: string, askedOn?: string, proto: 'udp' | 'tcp' = 'udp'): Promise<Buffer | undefined> {
    let q: Query;
    try {
      q = parseQuery(msg);
    } catch (e) {
      if (e instanceof DnsFormatError) return formErr(msg);
      throw e;
    }
    if (q.opcode !== 0) return buildResponse(q, RCODE_NOTIMP, []);
    if (q.questions.length !== 1) return buildResponse(q, RCODE_FORMERR, []);
    const question = q.questions[0];
    if (question.type === TYPE_PTR) {
      const ptr = this.reverse(src, question.name, askedOn);
      if (ptr) return buildResponse(q, RCODE_NOERROR, [{ type: TYPE_PTR, ttl: this.ttl, data: ptr }]);
    } else {
      const addrs = this.lookup(src, question.name, askedOn);
      if (addrs) {
        const answers: Answer[] = question.type === TYPE_A || question.type === TYPE_ANY ? addrs.map((a) => ({ type: TYPE_A, ttl: this.ttl, data: a })) : [];
        return buildResponse(q, RCODE_NOERROR, answers);
      }
      const gateway = askedOn ? this.listeners.get(askedOn)?.gateway : undefined;
      if (gateway && HOST_NAMES.has(norm(question.name))) {
        const answers: Answer[] = question.type === TYPE_A || question.type === TYPE_ANY ? [{ type: TYPE_A, ttl: this.ttl, data: gateway }] : [];
        return buildResponse(q, RCODE_NOERROR, answers);
      }
    }
    const upstreams = this.mayForward(src, askedOn) ? this.upstreams() : [];
    if (upstreams.length) return proto === 'tcp' ? this.forwardTcp(msg, q, upstreams) : this.forward(msg, q, upstreams);
    return buildResponse(q, RCODE_NXDOMAIN, []);
  }

  /** Over TCP, for a question that came over TCP (a UDP answer would have been cut). */
  private async forwardTcp(msg: Buffer, q: Query, upstreams: string[]): Promise<Buffer> {
    for (const up of upstreams) {
      const reply = await new Promise<Buffer | undefined>((resolve) => {
        const c = net.connect({ host: up, port: this.forwardPort });
        let buf = Buffer.alloc(0);
        const done = (b: Buffer | undefined) => {
          c.destroy();
          resolve(b);
        };
        c.setTimeout(FORWARD_TIMEOUT_MS, () => done(undefined));
        c.on('error', () => done(undefined));
        c.on('connect', () => {
          const l = Buffer.alloc(2);
          l.writeUInt16BE(msg.length, 0);
          c.write(Buffer.concat([l, msg]));
        });
        c.on('data', (d) => {
          buf = Buffer.concat([buf, d]);
          if (buf.length > 65_537) return done(undefined);
          if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
            const r = buf.subarray(2, 2 + buf.readUInt16BE(0));
            done(r.length >= 2 && r.readUInt16BE(0) === q.id ? Buffer.from(r) : undefined);
          }
        });
        c.on('end', () => done(undefined));
      });
      if (reply) return reply;
    }
    return buildResponse(q, RCODE_SERVFAIL, [], { ra: true });
  }

  private forward(msg: Buffer, q: Query, upstreams: string[]): Promise<Buffer> {
    return new Promise((resolve) => {
      const sock = dgram.createSocket('udp4');
      let i = 0;
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (b: Buffer) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        sock.close();
        resolve(b);
      };
      const tryNext = () => {
        if (timer) clearTimeout(timer);
        if (done) return;
        if (i >= upstreams.length) return finish(buildResponse(q, RCODE_SERVFAIL, [], { ra: true }));
        const up = upstreams[i++]!;
        const mine = i;
        sock.send(msg, this.forwardPort, up, (err) => {
          if (err && mine === i) tryNext();
        });
        timer = setTimeout(tryNext, FORWARD_TIMEOUT_MS);
      };
      // only an answer from an upstream we asked, to this question, is passed on
      sock.on('message', (reply, rinfo) => {
        if (upstreams.includes(rinfo.address) && reply.length >= 2 && reply.readUInt16BE(0) === q.id) finish(reply);
      });
      sock.on('error', () => finish(buildResponse(q, RCODE_SERVFAIL, [], { ra: true })));
      tryNext();
    });
  }

  /** Starts answering on `gateway`:53 (UDP and TCP) for the containers of `network`. */
  async addNetwork(network: string, gateway: string, opts: { internal?: boolean } = {}): Promise<void> {
    if (this.listeners.has(network)) return;
    const udp = dgram.createSocket('udp4');
    const conns = new Set<net.Socket>();
    const tcp = net.createServer((c) => this.serveTcp(c, network, conns));
    const fail = (e: unknown, proto: string) =>
      new TscError('NETWORK', `starting the DNS resolver of network ${network} on ${gateway}:${this.port}/${proto}: ${(e as Error).message}`, {
        cause: e,
        hint: (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'another resolver listens on every address at port 53' : undefined,
      });
    try {
      await listening(udp, (ready) => udp.bind(this.port, gateway, ready));
    } catch (e) {
      udp.close();
      throw fail(e, 'udp');
    }
    try {
      await listening(tcp, (ready) => tcp.listen(this.port, gateway, ready));
    } catch (e) {
      udp.close();
      throw fail(e, 'tcp');
    }
    udp.on('message', (msg, rinfo) => {
      this.handle(msg, rinfo.address, network).then(
        (reply) => {
          if (reply && this.listeners.get(network)?.udp === udp) udp.send(truncateForUdp(reply), rinfo.port, rinfo.address);
        },
        () => undefined,
      );
    });
    udp.on('error', () => undefined); // a send to a vanished client must not bring the resolver down
    tcp.on('error', () => undefined);
    this.listeners.set(network, { gateway, internal: !!opts.internal, udp, tcp, conns });
  }

  private serveTcp(c: net.Socket, network: string, conns: Set<net.Socket>): void {
    conns.add(c);
    c.setTimeout(10_000, () => c.destroy());
    c.on('close', () => conns.delete(c));
    c.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        this.handle(msg, c.remoteAddress?.replace(/^::ffff:/, '') ?? '', network, 'tcp').then(
          (reply) => {
            if (!reply || c.destroyed) return;
            const l = Buffer.alloc(2);
            l.writeUInt16BE(reply.length, 0);
            c.write(Buffer.concat([l, reply]));
          },
          () => c.destroy(),
        );
      }
    });
  }

  async removeNetwork(network: string): Promise<void> {
    const l = this.listeners.get(network);
    if (!l) return;
    this.listeners.delete(network);
    for (const c of l.conns) c.destroy();
    await Promise.all([new Promise<void>((r) => l.udp.close(() => r())), new Promise<void>((r) => l.tcp.close(() => r()))]);
  }

  networks(): string[] {
    return [...this.listeners.keys()];
  }

  async close(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((n) => this.removeNetwork(n)));
  }
}

/**
 * The records of one container: on each network it is attached to, its service name, its
 * container name, its hostname when set, and the aliases given for that network.
 */
export function dnsEntriesFor(o: {
  service: string;
  container: string;
  hostname?: string;
  attachments: Array<{ network: string; address: string }>;
  /** network → aliases (`networks.<name>.aliases` of the service) */
  aliases?: Record<string, string[]>;
}): DnsEntry[] {
  return o.attachments.map((a) => ({
    network: a.network,
    address: a.address,
    names: [o.service, o.container, ...(o.hostname ? [o.hostname] : []), ...(o.aliases?.[a.network] ?? [])],
  }));
}

/** Resolves when `start` calls back, rejects with the socket's first error before that. */
function listening(
  socket: { once(ev: 'error', f: (e: Error) => void): unknown; off(ev: 'error', f: (e: Error) => void): unknown },
  start: (ready: () => void) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    start(() => {
      socket.off('error', reject);
      resolve();
    });
  });
}
