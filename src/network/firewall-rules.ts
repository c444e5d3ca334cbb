/**
 * What tscompose puts into the host's packet filter, as text, from the list of its networks.
 * Pure: no kernel, no processes; firewall.ts applies it.
 *
 * Two places, because of how netfilter combines verdicts (see ../../docs/ARCHITECTURE.md and
 * the network README): every base chain at the forward hook sees a packet, a DROP anywhere is
 * final, an ACCEPT only ends the chain it is in.
 *
 * - Our own nftables table `ip tscompose`, created and deleted as a whole:
 *   - `forward` (filter hook, priority filter - 10, before iptables' FORWARD): the drops that
 *     isolate networks, as Docker's isolation stages do: a tscompose bridge never forwards to
 *     another tscompose bridge; an internal network forwards nothing in or out of its bridge;
 *     nothing from outside may open a connection into a bridge (replies pass).
 *   - `postrouting` (nat hook, srcnat): masquerade of each non-internal subnet leaving through
 *     any other interface, so containers reach the world with the host's address.
 * - A chain `TSCOMPOSE-FORWARD` in the host's iptables `filter` table, only when that table has
 *   a FORWARD chain (Docker, ufw, podman's iptables driver, an admin's rules): jumped to from
 *   the top of FORWARD, it ACCEPTs traffic within each tscompose bridge and from a bridge to the
 *   outside and back, so a FORWARD policy of DROP (and br_netfilter, which sends bridged frames
 *   through FORWARD) does not cut containers off. Written with the host's own iptables so that
 *   Docker and iptables-save read it as their own syntax.
 */

export const NFT_TABLE = 'tscompose';
export const IPT_CHAIN = 'TSCOMPOSE-FORWARD';
/** every bridge tscompose creates starts with this (names.ts) */
export const BRIDGE_PREFIX = 'tsc-';

export interface FirewallEntry {
  /** host bridge name (tsc-…) */
  bridge: string;
  /** the network's subnet, a.b.c.d/n */
  subnet: string;
  internal: boolean;
  /** who asked for it: the network's link alias (tscompose:<roottag>:<project>:<network>) */
  owner: string;
}

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

/** Refuses anything that could not have come from us before it reaches a rule. */
export function checkEntry(e: FirewallEntry): void {
  if (!IFNAME.test(e.bridge)) throw new RangeError(`not an interface name: ${JSON.stringify(e.bridge)}`);
  if (!CIDR.test(e.subnet)) throw new RangeError(`not an IPv4 subnet: ${JSON.stringify(e.subnet)}`);
}

/** nft comments are limited to 128 bytes and must not contain a double quote. */
function comment(owner: string): string {
  const clean = owner.replace(/["\\\n\r]/g, '_');
  return Buffer.byteLength(clean) <= 120
    ? clean
    : Buffer.from(clean)
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD+$/, '');
}

function sorted(entries: FirewallEntry[]): FirewallEntry[] {
  return [...entries].sort((a, b) => (a.bridge < b.bridge ? -1 : a.bridge > b.bridge ? 1 : 0));
}

/**
 * An `nft -f` script that replaces our table with one for `entries` in a single transaction
 * (`add` then `delete` makes the delete safe when the table does not exist yet). With no
 * entries it only removes the table.
 */
export function nftScript(entries: FirewallEntry[]): string {
  const lines = [`add table ip ${NFT_TABLE}`, `delete table ip ${NFT_TABLE}`];
  if (!entries.length) return lines.join('\n') + '\n';
  const fwd: string[] = [];
  const nat: string[] = [];
  for (const e of sorted(entries)) {
    checkEntry(e);
    const c = `comment "${comment(e.owner)}"`;
    const b = `"${e.bridge}"`;
    if (e.internal) {
      fwd.push(`iifname ${b} oifname != ${b} drop ${c}`);
      fwd.push(`oifname ${b} iifname != ${b} drop ${c}`);
    } else {
      fwd.push(`iifname ${b} oifname != ${b} oifname "${BRIDGE_PREFIX}*" drop ${c}`);
      fwd.push(`oifname ${b} iifname != ${b} ct state != { established, related } drop ${c}`);
      nat.push(`ip saddr ${e.subnet} oifname != ${b} masquerade ${c}`);
    }
  }
  lines.push(
    `table ip ${NFT_TABLE} {`,
    `  chain forward {`,
    `    type filter hook forward priority filter - 10; policy accept;`,
    ...fwd.map((r) => `    ${r}`),
    `  }`,
    `  chain postrouting {`,
    `    type nat hook postrouting priority srcnat; policy accept;`,
    ...nat.map((r) => `    ${r}`),
    `  }`,
    `}`,
  );
  return lines.join('\n') + '\n';
}

/**
 * `iptables-restore --noflush` input that (re)writes our accept chain in the filter table:
 * declaring an existing user chain under --noflush flushes it first, so this replaces it whole.
 */
export function iptablesRestoreScript(entries: FirewallEntry[]): string {
  const rules: string[] = [];
  for (const e of sorted(entries)) {
    checkEntry(e);
    const c = `-m comment --comment "${comment(e.owner)}"`;
    rules.push(`-A ${IPT_CHAIN} -i ${e.bridge} -o ${e.bridge} ${c} -j ACCEPT`);
    if (!e.internal) {
      rules.push(`-A ${IPT_CHAIN} -i ${e.bridge} ! -o ${e.bridge} ${c} -j ACCEPT`);
      rules.push(`-A ${IPT_CHAIN} -o ${e.bridge} -m conntrack --ctstate RELATED,ESTABLISHED ${c} -j ACCEPT`);
    }
  }
  return ['*filter', `:${IPT_CHAIN} - [0:0]`, ...rules, 'COMMIT', ''].join('\n');
}

/** Whether any entry needs the host to forward packets (egress). */
export function needsForwarding(entries: FirewallEntry[]): boolean {
  return entries.some((e) => !e.internal);
}
