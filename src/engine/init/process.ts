/**
 * The last steps before a container process runs, shared by the init stage and the exec
 * stage: rlimits, user and groups from the container's /etc/passwd and /etc/group,
 * capabilities (bounding set, then effective/permitted/inheritable), no_new_privileges,
 * stdio, and execve with args[0] looked up in the container's PATH. Runs after pivot_root or
 * setns(mnt), so every path here is inside the container.
 */
import { accessSync, constants, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  PR_CAPBSET_DROP,
  PR_CAP_AMBIENT,
  PR_CAP_AMBIENT_CLEAR_ALL,
  PR_SET_DUMPABLE,
  PR_SET_KEEPCAPS,
  PR_SET_NO_NEW_PRIVS,
  RLIMIT_RESOURCES,
  TIOCSCTTY,
  capget,
  capset,
  chdir,
  ioctl,
  prctl,
  setCloexec,
  setgroups,
  setresgid,
  setresuid,
  setrlimit,
  setsid,
} from '../../sys/syscalls.js';
import { StepError } from './step.js';
import { E, hasErrno } from '../../sys/libc.js';
import { installProfileFilter } from './seccomp/index.js';
import { capMask } from './caps.js';
import type { ProcessSpec, SeccompMode } from '../spec.js';

export { CAPABILITY_NAMES as CAP_NAMES } from '../spec.js';
import { CAPABILITY_NAMES as CAP_NAMES } from '../spec.js';

export interface Credentials {
  uid: number;
  gid: number;
  groups: number[];
  home?: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function readLines(file: string): string[][] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

export function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4)
    .map((f) => ({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' }));
}

export function parseGroup(text: string): GroupEntry[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 3)
    .map((f) => ({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));
}

const isNum = (s: string) => /^\d+$/.test(s);

/** Resolves Docker's `user:` string ("name", "uid", "uid:gid", "name:group") plus group_add. */
export function resolveUser(user: string | undefined, additional: string[] | undefined, passwd: string, group: string): Credentials {
  const users = parsePasswd(passwd);
  const groups = parseGroup(group);
  const [u = '', g] = (user ?? '').split(':');
  let uid = 0;
  let gid = 0;
  let name: string | undefined;
  let home: string | undefined;
  if (u === '') {
    const root = users.find((e) => e.uid === 0);
    name = root?.name ?? 'root';
    home = root?.home ?? '/root';
  } else if (isNum(u)) {
    uid = Number(u);
    const e = users.find((x) => x.uid === uid);
    if (e) ({ gid, name, home } = e);
  } else {
    const e = users.find((x) => x.name === u);
    if (!e) throw new StepError('user', `unable to find user ${u}: no matching entries in the container's /etc/passwd`);
    ({ uid, gid, name, home } = e);
  }
  if (g !== undefined && g !== '') {
    if (isNum(g)) gid = Number(g);
    else {
      const ge = groups.find((x) => x.name === g);
      if (!ge) throw new StepError('user', `unable to find group ${g}: no matching entries in the container's /etc/group`);
      gid = ge.gid;
    }
  }
  const sup = new Set<number>();
  // Supplementary groups from /etc/group only when the group part was not given explicitly (Docker).
  if (name && (g === undefined || g === '')) for (const ge of groups) if (ge.members.includes(name)) sup.add(ge.gid);
  for (const a of additional ?? []) {
    if (isNum(a)) sup.add(Number(a));
    else {
      const ge = groups.find((x) => x.name === a);
      if (!ge) throw new StepError('user', `unable to find group ${a} (group_add) in the container's /etc/group`);
      sup.add(ge.gid);
    }
  }
  sup.add(gid);
  return { uid, gid, groups: [...sup].sort((a, b) => a - b), home };
}

/** Looks up args[0] in PATH (from env) inside the container; returns the path to execve. */
export function lookPath(cmd: string, env: string[], cwd = '/'): string {
  const check = (p: string): boolean => {
    try {
      const st = statSync(p);
      if (!st.isFile()) return false;
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (cmd.includes('/')) {
    // relative to the working directory, as execve will see it after chdir
    const abs = path.posix.resolve(cwd || '/', cmd);
    if (!check(abs)) throw new StepError('exec', `exec: "${cmd}": no such file or executable`);
    return abs;
  }
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  for (const dir of pathVar.split(':')) {
    const p = path.join(dir || '.', cmd);
    if (check(p)) return p;
  }
  throw new StepError('exec', `exec: "${cmd}": executable file not found in $PATH (${pathVar})`);
}

export function applyRlimits(rlimits: ProcessSpec['rlimits']): void {
  for (const r of rlimits) {
    const key = r.name.toLowerCase().replace(/^rlimit_/, '');
    const res = RLIMIT_RESOURCES[key];
    if (res === undefined) throw new StepError('rlimits', `unknown ulimit "${r.name}"`);
    const v = (n: number) => (n < 0 ? 0xffffffffffffffffn : BigInt(n));
    try {
      setrlimit(res, v(r.soft), v(r.hard), `setrlimit ${key}`);
    } catch (e) {
      throw new StepError(
        'rlimits',
        `ulimit ${key}=${r.soft}:${r.hard} cannot be applied: ${(e as Error).message}`,
        "raising a hard limit above the host's needs CAP_SYS_RESOURCE, which this host does not grant; lower the value",
      );
    }
  }
}

/** Sets groups, gid, uid and the capability sets the Docker way (bounding = eff = perm = inh = caps). */
export function applyCredentials(
  cred: Credentials,
  caps: readonly string[],
  privileged: boolean,
  noNewPrivileges: boolean,
  seccomp: SeccompMode | undefined,
): void {
  const lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  const available = capget().permitted;
  // A capability the host itself lacks (CAP_SYS_RESOURCE on some hosts) cannot be granted: left out.
  let want = privileged ? available : capMask(caps) & available;
  for (let c = 0; c <= lastCap; c++) {
    if (!(want & (1n << BigInt(c)))) {
      try {
        prctl(PR_CAPBSET_DROP, c, 0, 0, 0, `drop capability ${CAP_NAMES[c] ?? c} from the bounding set`);
      } catch (e) {
        // EINVAL: the kernel does not know this capability.
        if (!hasErrno(e, E.EINVAL)) throw e;
      }
    }
  }
  want &= (1n << BigInt(lastCap + 1)) - 1n;
  // Installed while still holding CAP_SYS_ADMIN (no_new_privs is not required then).
  const mode = seccomp ?? (privileged ? 'unconfined' : 'default');
  if (mode !== 'unconfined') {
    // Docker reads the profile's capability conditions against the bounding set: `want`.
    installProfileFilter(
      CAP_NAMES.filter((_, i) => want & (1n << BigInt(i))),
      mode === 'default' ? undefined : mode.profile,
    );
  }
  prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0, 'keep capabilities across setuid');
  setgroups(cred.groups, `setgroups ${cred.groups.join(',')}`);
  setresgid(cred.gid, `setresgid ${cred.gid}`);
  setresuid(cred.uid, `setresuid ${cred.uid}`);
  capset({ effective: want, permitted: want, inheritable: want }, 'capset');
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0, 'reset keep capabilities');
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 'clear ambient capabilities');
  if (noNewPrivileges) prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 'no_new_privileges');
}

/**
 * Makes the stage non-dumpable (CVE-2019-5736 class): until its execve, and for good in an
 * init: true reaper, the process is tscompose's Node binary inside the container's PID
 * namespace. Non-dumpable, its /proc/PID/exe, fd/, mem, root and ptrace are refused to the
 * container's processes (they lack CAP_SYS_PTRACE), so none can reach or rewrite the host's
 * node binary or a host file the stage holds open. execve of the command makes it dumpable
 * again, as any process.
 */
export function hideFromContainer(): void {
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0, 'make the stage non-dumpable');
}

export function readCredentials(proc: ProcessSpec): Credentials {
  const passwd = readLines('/etc/passwd')
    .map((f) => f.join(':'))
    .join('\n');
  const group = readLines('/etc/group')
    .map((f) => f.join(':'))
    .join('\n');
  return resolveUser(proc.user, proc.additionalGroups, passwd, group);
}

/** Makes sure the working directory exists (as Docker does) while still root. */
export function ensureCwd(cwd: string): void {
  try {
    mkdirSync(cwd || '/', { recursive: true, mode: 0o755 });
  } catch {
    // chdir below reports the real problem
  }
}

/** Makes fds 0-2 survive execve (Node opens them close-on-exec) and sets the controlling tty. */
export function prepareStdio(tty: boolean): void {
  for (const fd of [0, 1, 2]) {
    try {
      setCloexec(fd, false, `keep fd ${fd} open across exec`);
    } catch (e) {
      if (!hasErrno(e, E.EBADF)) throw e;
    }
  }
  if (tty) {
    setsid();
    try {
      ioctl(0, TIOCSCTTY, 0, 'set controlling terminal');
    } catch {
      // stdin is not a terminal: run without a controlling tty
    }
  }
}

export function finalEnv(env: string[], cred: Credentials): string[] {
  const out = [...env];
  if (!out.some((e) => e.startsWith('HOME='))) out.push(`HOME=${cred.home || '/'}`);
  if (!out.some((e) => e.startsWith('PATH='))) out.push('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  return out;
}

export function enterCwd(cwd: string): void {
  try {
    chdir(cwd || '/', `chdir to working directory ${cwd}`);
  } catch (e) {
    throw new StepError('cwd', (e as Error).message);
  }
}
