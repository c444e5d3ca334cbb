/**
 * The default seccomp policy: the syscalls Docker's default profile refuses to a container
 * unless it holds the capability that makes them legitimate (x86_64 numbers). Docker's
 * profile is an allow-list with argument filters; this is the deny-list of its notable
 * refusals (kernel modules, kexec/reboot, clock setting, mount API, namespaces, keyring,
 * bpf, perf, ptrace-like memory access, userfaultfd, ...).
 */
import { capMask } from './caps.js';
import { StepError } from './step.js';

/** [syscall, number on x86_64, capability that allows it (undefined: always refused)] */
const X86_64_RULES: Array<[string, number, string | undefined]> = [
  ['uselib', 134, undefined],
  ['ustat', 136, undefined],
  ['_sysctl', 156, undefined],
  ['create_module', 174, undefined],
  ['get_kernel_syms', 177, undefined],
  ['query_module', 178, undefined],
  ['nfsservctl', 180, undefined],
  ['add_key', 248, undefined],
  ['request_key', 249, undefined],
  ['keyctl', 250, undefined],
  ['userfaultfd', 323, undefined],
  ['acct', 163, 'SYS_PACCT'],
  ['settimeofday', 164, 'SYS_TIME'],
  ['clock_settime', 227, 'SYS_TIME'],
  ['clock_adjtime', 305, 'SYS_TIME'],
  ['iopl', 172, 'SYS_RAWIO'],
  ['ioperm', 173, 'SYS_RAWIO'],
  ['init_module', 175, 'SYS_MODULE'],
  ['delete_module', 176, 'SYS_MODULE'],
  ['finit_module', 313, 'SYS_MODULE'],
  ['reboot', 169, 'SYS_BOOT'],
  ['kexec_load', 246, 'SYS_BOOT'],
  ['kexec_file_load', 320, 'SYS_BOOT'],
  ['syslog', 103, 'SYSLOG'],
  ['ptrace', 101, 'SYS_PTRACE'],
  ['process_vm_readv', 310, 'SYS_PTRACE'],
  ['process_vm_writev', 311, 'SYS_PTRACE'],
  ['kcmp', 312, 'SYS_PTRACE'],
  ['open_by_handle_at', 304, 'DAC_READ_SEARCH'],
  ['mbind', 237, 'SYS_NICE'],
  ['set_mempolicy', 238, 'SYS_NICE'],
  ['move_pages', 279, 'SYS_NICE'],
  ['mount', 165, 'SYS_ADMIN'],
  ['umount2', 166, 'SYS_ADMIN'],
  ['pivot_root', 155, 'SYS_ADMIN'],
  ['swapon', 167, 'SYS_ADMIN'],
  ['swapoff', 168, 'SYS_ADMIN'],
  ['quotactl', 179, 'SYS_ADMIN'],
  ['lookup_dcookie', 212, 'SYS_ADMIN'],
  ['unshare', 272, 'SYS_ADMIN'],
  ['setns', 308, 'SYS_ADMIN'],
  ['name_to_handle_at', 303, 'SYS_ADMIN'],
  ['bpf', 321, 'SYS_ADMIN'],
  ['perf_event_open', 298, 'SYS_ADMIN'],
  ['fanotify_init', 300, 'SYS_ADMIN'],
  ['open_tree', 428, 'SYS_ADMIN'],
  ['move_mount', 429, 'SYS_ADMIN'],
  ['fsopen', 430, 'SYS_ADMIN'],
  ['fsconfig', 431, 'SYS_ADMIN'],
  ['fsmount', 432, 'SYS_ADMIN'],
  ['fspick', 433, 'SYS_ADMIN'],
  ['mount_setattr', 442, 'SYS_ADMIN'],
];

/** The syscall numbers refused to a process holding `caps` (x86_64 only). */
export function deniedSyscalls(caps: readonly string[]): number[] {
  if (process.arch !== 'x64') {
    throw new StepError(
      'seccomp',
      `the default seccomp profile is defined for x86_64 only (this is ${process.arch})`,
      'set security_opt: [seccomp=unconfined] to run without it',
    );
  }
  const have = capMask(caps);
  const out: number[] = [];
  for (const [, nr, cap] of X86_64_RULES) {
    if (cap && have & capMask([cap])) continue;
    out.push(nr);
  }
  return out;
}

export const DEFAULT_SECCOMP_RULES = X86_64_RULES;
