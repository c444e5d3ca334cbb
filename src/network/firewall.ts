/**
 * Applies tscompose's packet-filter rules (firewall-rules.ts) on the host and keeps the one
 * host-wide record of them. The rules of every tscompose network on the machine, whatever its
 * state root, live in one nftables table and one iptables chain, so the record is host-wide
 * too: `/run/tscompose/firewall.net-<inode>.json` (under /run because the kernel's ruleset and
 * sysctls do not survive a reboot either), read and written under a flock. The ruleset and
 * ip_forward belong to a network namespace, and so does the record, named by the namespace's
 * inode: tscompose run in another one (in a container, under `unshare --net`) keeps its own.
 *
 * Every change is: lock, read the record, change it, drop entries whose bridge is gone (a
 * crashed `up` or `down` of any project), write the record, then rewrite our table and chain
 * whole from the record. The record is written before the rules, so a crash between the two
 * leaves rules that the next call (any project's) converges; rewriting whole means there is
 * no rule of ours that a later call does not own. Nothing outside our table and our chain is
 * changed, except one jump rule at the top of the host's FORWARD chain and `ip_forward`,
 * which is turned on only when a network needs egress, and off again with the last such
 * network only when it was tscompose that turned it on.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { type FirewallEntry, IPT_CHAIN, NFT_TABLE, checkEntry, iptablesRestoreScript, needsForwarding, nftScript } from './firewall-rules.js';
import { readJson, withFileLock, writeJsonAtomic } from './registry.js';
import { faultPoint } from '../sys/fault.js';

export type { FirewallEntry } from './firewall-rules.js';

const RUN_DIR = '/run/tscompose';
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
const LEGACY_RECORD = path.join(RUN_DIR, 'firewall.json');
let record: string | undefined;

/**
 * The record of this network namespace's rules, named by the namespace's inode. The ruleset and
 * ip_forward are per namespace: two namespaces sharing one record would each drop the other's
 * entries (their bridges are not visible across) and turn ip_forward on or off in the wrong one.
 * A record of an older tscompose (`firewall.json`, one per host) with entries is taken over by
 * the namespace that sees all of their bridges.
 */
export function firewallRecordPath(): string {
  if (record) return record;
  const own = path.join(RUN_DIR, `firewall.net-${statSync('/proc/self/ns/net').ino}.json`);
  if (!existsSync(own) && existsSync(LEGACY_RECORD)) {
    const legacy = readJson(LEGACY_RECORD, empty);
    const bridges = Object.keys(legacy.entries);
    if (bridges.length && bridges.every(bridgeExists)) {
      try {
        renameSync(LEGACY_RECORD, own);
      } catch {
        /* another process took it over first */
      }
    }
  }
  record = own;
  return record;
}

interface FirewallRecord {
  version: 1;
  /** by bridge name */
  entries: Record<string, FirewallEntry>;
  /** true while ip_forward is 1 because tscompose set it */
  forwardingSetByUs: boolean;
}

const empty = (): FirewallRecord => ({ version: 1, entries: {}, forwardingSetByUs: false });

/** The program's full path from PATH (and the sbin folders, which a root shell may lack), or undefined. */
export function findProgram(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function run(prog: string, args: string[], input?: string): { ok: boolean; out: string; err: string } {
  const r = spawnSync(prog, args, { input, encoding: 'utf8', timeout: 30_000 });
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr || r.error?.message || '').trim() };
}

function missing(what: string, pkg: string, why: string): TscError {
  return new TscError('NETWORK_FIREWALL', `${why}, and the \`${what}\` command is not installed (searched PATH: ${process.env.PATH ?? ''})`, {
    hint: `install it (Debian/Ubuntu: \`apt-get install ${pkg}\`; Fedora: \`dnf install ${pkg}\`), or make the network \`internal: true\` (no egress, no rules needed)`,
  });
}

/** An iptables variant that has a FORWARD chain in its filter table on this host. */
interface HostFilter {
  backend: 'nft' | 'legacy';
  /** the iptables program of that backend */
  prog: string;
  restore: string;
}

/**
 * The iptables filter tables that exist on the host (never created here: listing an nftables
 * chain or reading /proc/net/ip_tables_names loads nothing). `needJump`: only tables with a
 * FORWARD chain matter for new rules; for removal every table holding our chain does.
 */
function hostFilters(nft: string, purpose: 'apply' | 'remove'): HostFilter[] {
  const out: HostFilter[] = [];
  const chain = purpose === 'apply' ? 'FORWARD' : IPT_CHAIN;
  if (run(nft, ['list', 'chain', 'ip', 'filter', chain]).ok) {
    const prog = findProgram('iptables-nft');
    const restore = findProgram('iptables-nft-restore');
    if (!prog || !restore) {
      throw missing(
        'iptables-nft',
        'iptables',
        'the host filters forwarded packets with iptables (its FORWARD chain exists, e.g. from Docker or ufw), so tscompose must add an accept rule there',
      );
    }
    out.push({ backend: 'nft', prog, restore });
  }
  let legacyTables: string;
  try {
    legacyTables = readFileSync('/proc/net/ip_tables_names', 'utf8');
  } catch {
    legacyTables = '';
  }
  if (legacyTables.split('\n').includes('filter')) {
    const prog = findProgram('iptables-legacy');
    const restore = findProgram('iptables-legacy-restore');
    if (prog && restore && (purpose === 'apply' || run(prog, ['-w', '-n', '-L', IPT_CHAIN]).ok)) {
      out.push({ backend: 'legacy', prog, restore });
    } else if (purpose === 'apply' && (!prog || !restore)) {
      throw missing('iptables-legacy', 'iptables', 'the host has a legacy iptables filter table');
    }
  }
  return out;
}

function applyIptables(f: HostFilter, entries: FirewallEntry[]): void {
  const jump = ['-w', '-C', 'FORWARD', '-j', IPT_CHAIN];
  if (entries.length) {
    const r = run(f.restore, ['-w', '--noflush'], iptablesRestoreScript(entries));
    if (!r.ok) throw new TscError('NETWORK_FIREWALL', `writing the ${IPT_CHAIN} chain with ${path.basename(f.restore)} failed: ${r.err}`);
    if (!run(f.prog, jump).ok) {
      const ins = run(f.prog, ['-w', '-I', 'FORWARD', '1', '-j', IPT_CHAIN]);
      if (!ins.ok) throw new TscError('NETWORK_FIREWALL', `adding the jump to ${IPT_CHAIN} at the top of FORWARD failed: ${ins.err}`);
    }
    return;
  }
  for (let i = 0; i < 16 && run(f.prog, jump).ok; i++) run(f.prog, ['-w', '-D', 'FORWARD', '-j', IPT_CHAIN]);
  run(f.prog, ['-w', '-F', IPT_CHAIN]);
  run(f.prog, ['-w', '-X', IPT_CHAIN]);
}

function readForward(): string {
  try {
    return readFileSync(IP_FORWARD, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Makes the kernel's state match the record; returns the record's forwarding flag. */
function apply(rec: FirewallRecord): void {
  const entries = Object.values(rec.entries);
  const nft = findProgram('nft');
  if (!nft) {
    if (needsForwarding(entries)) {
      const names = entries.filter((e) => !e.internal).map((e) => e.owner.split(':').slice(3).join(':') || e.bridge);
      throw missing('nft', 'nftables', `network ${names.join(', ')} needs egress (masquerading and forwarding rules)`);
    }
    // internal networks only: nothing of ours can exist without nft, and nothing forwards
  } else {
    const r = run(nft, ['-f', '-'], nftScript(entries));
    if (!r.ok) {
      throw new TscError('NETWORK_FIREWALL', `writing the nftables table "ip ${NFT_TABLE}" failed: ${r.err}`, {
        hint: 'the kernel needs nf_tables with nat, masquerade and conntrack support (modules nf_tables, nft_nat, nft_masq, nft_ct)',
      });
    }
    for (const f of hostFilters(nft, entries.length ? 'apply' : 'remove')) applyIptables(f, entries);
  }
  if (needsForwarding(entries)) {
    // update() recorded the flag before this write, so a kill right after it still knows
    if (rec.forwardingSetByUs && readForward() === '0') writeFileSync(IP_FORWARD, '1');
  } else if (rec.forwardingSetByUs) {
    writeFileSync(IP_FORWARD, '0');
    rec.forwardingSetByUs = false;
  }
}

function bridgeExists(bridge: string): boolean {
  return existsSync(path.join('/sys/class/net', bridge));
}

function update(change: (rec: FirewallRecord) => void): void {
  const file = firewallRecordPath();
  withFileLock(file, () => {
    const rec = readJson(file, empty);
    change(rec);
    for (const [bridge] of Object.entries(rec.entries)) if (!bridgeExists(bridge)) delete rec.entries[bridge];
    // ip_forward is ours to set only when it is 0: the flag is recorded before the sysctl is
    // written, so a kill between the two cannot leave forwarding on with nobody owning it
    if (needsForwarding(Object.values(rec.entries)) && readForward() === '0') rec.forwardingSetByUs = true;
    // written with the new entries first, so a crash in apply is converged by the next call
    writeJsonAtomic(file, rec);
    apply(rec);
    faultPoint('firewall apply');
    // apply clears the flag when it turns forwarding off; a record left empty goes, so the
    // records of namespaces that are gone do not pile up (their inode numbers are reused)
    if (Object.keys(rec.entries).length || rec.forwardingSetByUs) writeJsonAtomic(file, rec);
    else rmSync(file, { force: true });
  });
}

/**
 * Adds (or re-asserts) networks' rules, after their bridges exist. `up` re-asserts the rules of
 * a project's existing networks, so rules that a firewall reload or a Docker start removed or
 * outranked come back.
 */
export function firewallAdd(...entries: FirewallEntry[]): void {
  entries.forEach(checkEntry);
  update((rec) => {
    for (const e of entries) rec.entries[e.bridge] = { ...e };
  });
}

/** Removes the rules of these bridges; with none left, our table, chain and jump go. */
export function firewallRemove(bridges: string[]): void {
  update((rec) => {
    for (const b of bridges) delete rec.entries[b];
  });
}

/** Drops the rules of every bridge that no longer exists (crash cleanup); cheap when nothing changed. */
export function firewallSweep(): void {
  const rec = readJson(firewallRecordPath(), empty);
  const stale = Object.keys(rec.entries).some((b) => !bridgeExists(b));
  const leftover = !Object.keys(rec.entries).length && (rec.forwardingSetByUs || tableExists());
  if (stale || leftover) update(() => undefined);
}

function tableExists(): boolean {
  const nft = findProgram('nft');
  return !!nft && run(nft, ['list', 'table', 'ip', NFT_TABLE]).ok;
}
