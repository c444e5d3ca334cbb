/**
 * The "hostile host" profile: what installing Docker does to a machine's packet filter,
 * reproduced without Docker, so the network and CLI suites can run under it. It loads
 * br_netfilter when it is a module that is not loaded, sets `bridge-nf-call-iptables=1` and
 * `ip_forward=1`, sets the iptables FORWARD policy to DROP (iptables-nft: nftables' `ip filter`
 * table, created when missing) and adds a foreign chain named like Docker's with a DROP rule
 * for another bridge, jumped to from FORWARD.
 *
 * What it changes is written to a record under /run before the first change, and `restoreHost`
 * puts back exactly that: the policy, the sysctls, the module, the table when it made it. A
 * run that was killed before restoring is repaired by the next `applyHostile`/`restoreHost`
 * (the integration suite's global setup calls restoreHost first thing).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isPidAlive } from '../../src/common/process.js';

const RECORD_DIR = '/run/tscompose-test';
const RECORD = `${RECORD_DIR}/host-profile.json`;
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
const BR_NF = '/proc/sys/net/bridge/bridge-nf-call-iptables';
/** named like Docker's chains; a DROP for a bridge that is not ours */
export const FOREIGN_CHAIN = 'DOCKER-ISOLATION-STAGE-2';
const FOREIGN_BRIDGE = 'docker0';

interface Record {
  /** the test run that applied the profile: another run on the machine leaves it alone while it lives */
  pid: number;
  ipForward: string;
  /** undefined: br_netfilter was not loaded */
  brNf?: string;
  loadedBrNetfilter: boolean;
  filterTableExisted: boolean;
  /** FORWARD's policy before, when the chain existed */
  forwardPolicy?: string;
  foreignChainAdded: boolean;
  /** the ruleset before, to check the restore */
  ruleset: string;
}

function sh(cmd: string, args: string[], allowFail = false): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout ?? '';
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The host's whole ruleset as text, comparable before and after (nft and iptables-save). */
export function rulesetText(): string {
  const nft = sh('nft', ['list', 'ruleset'], true);
  const ipt = sh('iptables-save', [], true)
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
  return `${nft}\n--- iptables-save\n${ipt}`;
}

function forwardPolicy(): string | undefined {
  if (spawnSync('nft', ['list', 'chain', 'ip', 'filter', 'FORWARD']).status !== 0) return undefined;
  const m = /^-P FORWARD (\w+)/m.exec(sh('iptables-nft', ['-S', 'FORWARD']));
  return m?.[1];
}

export function isHostile(): boolean {
  return existsSync(RECORD);
}

export function applyHostile(): void {
  restoreHost();
  if (existsSync(RECORD)) return; // another live test run's profile is in force already
  const rec: Record = {
    pid: process.pid,
    ipForward: read(IP_FORWARD) ?? '0',
    brNf: read(BR_NF),
    loadedBrNetfilter: false,
    filterTableExisted: spawnSync('nft', ['list', 'table', 'ip', 'filter']).status === 0,
    forwardPolicy: forwardPolicy(),
    foreignChainAdded: false,
    ruleset: rulesetText(),
  };
  mkdirSync(RECORD_DIR, { recursive: true });
  const save = () => writeFileSync(RECORD, JSON.stringify(rec, null, 2));
  save();
  if (rec.brNf === undefined) {
    sh('modprobe', ['br_netfilter']);
    rec.loadedBrNetfilter = true;
    save();
  }
  writeFileSync(BR_NF, '1');
  writeFileSync(IP_FORWARD, '1');
  sh('iptables-nft', ['-P', 'FORWARD', 'DROP']);
  if (spawnSync('iptables-nft', ['-n', '-L', FOREIGN_CHAIN]).status !== 0) {
    rec.foreignChainAdded = true;
    save();
    sh('iptables-nft', ['-N', FOREIGN_CHAIN]);
    sh('iptables-nft', ['-A', FOREIGN_CHAIN, '-o', FOREIGN_BRIDGE, '-j', 'DROP']);
    sh('iptables-nft', ['-A', FOREIGN_CHAIN, '-j', 'RETURN']);
    sh('iptables-nft', ['-A', 'FORWARD', '-j', FOREIGN_CHAIN]);
  }
}

/**
 * Puts the host back as applyHostile found it (a no-op without a record, and for a record of
 * another test run that is still alive: two runs on one machine, as when several checkouts are
 * tested at once, must not undo each other's profile). Throws, after restoring all it can, when
 * the ruleset then differs from the one recorded.
 */
export function restoreHost(): void {
  if (!existsSync(RECORD)) return;
  const rec = JSON.parse(readFileSync(RECORD, 'utf8')) as Record;
  if (typeof rec.pid === 'number' && rec.pid !== process.pid && isPidAlive(rec.pid)) return;
  // a chain of tscompose's left in the table would vanish with the table below, unseen
  const leaked = spawnSync('nft', ['list', 'chain', 'ip', 'filter', 'TSCOMPOSE-FORWARD']).status === 0 ? sh('iptables-nft-save', [], true) : '';
  if (rec.foreignChainAdded) {
    while (spawnSync('iptables-nft', ['-C', 'FORWARD', '-j', FOREIGN_CHAIN]).status === 0) sh('iptables-nft', ['-D', 'FORWARD', '-j', FOREIGN_CHAIN]);
    sh('iptables-nft', ['-F', FOREIGN_CHAIN], true);
    sh('iptables-nft', ['-X', FOREIGN_CHAIN], true);
  }
  if (rec.forwardPolicy) sh('iptables-nft', ['-P', 'FORWARD', rec.forwardPolicy], true);
  else if (!rec.filterTableExisted) sh('nft', ['delete', 'table', 'ip', 'filter'], true);
  writeFileSync(IP_FORWARD, rec.ipForward);
  if (rec.brNf !== undefined) writeFileSync(BR_NF, rec.brNf);
  if (rec.loadedBrNetfilter) sh('modprobe', ['-r', 'br_netfilter'], true);
  rmSync(RECORD, { force: true });
  if (leaked) throw new Error(`tscompose left its TSCOMPOSE-FORWARD chain in the host's filter table:\n${leaked}`);
  const now = rulesetText();
  if (now !== rec.ruleset) {
    throw new Error(`the host's ruleset differs from before the hostile profile:\n--- before\n${rec.ruleset}\n--- after\n${now}`);
  }
}
