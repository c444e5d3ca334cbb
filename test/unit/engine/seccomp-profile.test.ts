/**
 * A profile of Docker's format given by the user (security_opt: [seccomp=<file>]): read,
 * checked with errors that name the field at fault, and compiled as libseccomp and runc would.
 */
import { describe, expect, it } from 'vitest';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64 } from '../../../src/sys/seccomp.js';
import { SYSCALL_TABLES, checkProfile, profileProgram, readProfile } from '../../../src/engine/init/seccomp/index.js';
import { DEFAULT_CAPABILITIES } from '../../../src/engine/spec.js';
import { TscError } from '../../../src/common/errors.js';
import { runFilter as run } from './seccomp-run.js';

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const KERNEL: [number, number] = [6, 18];
const X64 = SYSCALL_TABLES.amd64;
const NO_MKDIR = {
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
};
const program = (p: unknown, caps: readonly string[] = DEFAULT_CAPABILITIES) => profileProgram('amd64', caps, KERNEL, readProfile(p));

describe('seccomp: a profile of Docker format', () => {
  it('refuses what it names, allows the rest, and adds no ENOSYS check to an allowing default (as runc)', () => {
    const prog = program(NO_MKDIR);
    expect(run(prog, AUDIT_ARCH_X86_64, X64.mkdir)).toBe(EPERM);
    expect(run(prog, AUDIT_ARCH_X86_64, X64.mkdirat)).toBe(EPERM);
    expect(run(prog, AUDIT_ARCH_X86_64, X64.mount)).toBe(ALLOW);
    expect(run(prog, AUDIT_ARCH_X86_64, 1000)).toBe(ALLOW);
    // no archMap: the native architecture only; i386 and x32 calls are refused as of an unknown architecture
    expect(run(prog, AUDIT_ARCH_I386, SYSCALL_TABLES.x86.getpid)).toBe(ENOSYS);
    expect(run(prog, AUDIT_ARCH_X86_64, SYSCALL_TABLES.x32.getpid)).toBe(ENOSYS);
  });

  it('reads the old `architectures` form, capability conditions and every supported action', () => {
    const prog = program({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      syscalls: [
        { names: ['getpid', 'read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { name: 'getppid', action: 'SCMP_ACT_LOG' },
        { names: ['kill'], action: 'SCMP_ACT_KILL_PROCESS' },
        { names: ['tkill'], action: 'SCMP_ACT_KILL' },
        { names: ['tgkill'], action: 'SCMP_ACT_TRAP' },
        { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
      ],
    });
    expect(run(prog, AUDIT_ARCH_X86_64, X64.getpid)).toBe(ALLOW);
    expect(run(prog, AUDIT_ARCH_I386, SYSCALL_TABLES.x86.getpid)).toBe(ALLOW);
    expect(run(prog, AUDIT_ARCH_X86_64, X64.getppid)).toBe(0x7ffc0000);
    expect(run(prog, AUDIT_ARCH_X86_64, X64.kill)).toBe(0x80000000);
    expect(run(prog, AUDIT_ARCH_X86_64, X64.tkill)).toBe(0);
    expect(run(prog, AUDIT_ARCH_X86_64, X64.tgkill)).toBe(0x00030000);
    expect(run(prog, AUDIT_ARCH_X86_64, X64.mount)).toBe(ENOSYS); // the default: defaultErrnoRet
    expect(
      run(
        program({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } }] }, [
          'SYS_ADMIN',
        ]),
        AUDIT_ARCH_X86_64,
        X64.mount,
      ),
    ).toBe(ALLOW);
    expect(run(prog, AUDIT_ARCH_X86_64, X64.socket, [1n])).toBe(ALLOW);
    expect(run(prog, AUDIT_ARCH_X86_64, X64.socket, [2n])).toBe(ENOSYS);
  });

  it('says what is wrong and where', () => {
    const fault = (p: unknown) => {
      try {
        readProfile(p);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(fault([])).toMatch(/^the profile: must be a JSON object/);
    expect(fault({ syscalls: [] })).toBe('defaultAction: is missing');
    expect(fault({ defaultAction: 'SCMP_ACT_DENY' })).toMatch(/^defaultAction.action: "SCMP_ACT_DENY" is not a seccomp action/);
    expect(fault({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_NOTIFY' }] })).toMatch(
      /^syscalls\[0\]\.action: "SCMP_ACT_NOTIFY" is not supported by tscompose/,
    );
    expect(fault({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: 'mkdir', action: 'SCMP_ACT_ERRNO' }] })).toMatch(
      /^syscalls\[0\]\.names: must be a list of strings/,
    );
    expect(
      fault({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] }),
    ).toMatch(/^syscalls\[0\]\.args\[0\]\.index: must be a whole number from 0 to 5/);
    expect(
      fault({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_LIKE' }] }] }),
    ).toMatch(/^syscalls\[0\]\.args\[0\]\.op: "SCMP_CMP_LIKE" is not a comparison/);
    expect(fault({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'], archMap: [] })).toMatch(/^architectures: and archMap are both set/);
    expect(fault(NO_MKDIR)).toBe('no error');
  });

  it('checkProfile: one paragraph naming the file, for bad JSON, a bad field and rules that contradict each other', () => {
    const err = (text: string) => {
      try {
        checkProfile(text, '/p/seccomp.json', DEFAULT_CAPABILITIES);
      } catch (e) {
        return e as TscError;
      }
      throw new Error('accepted');
    };
    expect(err('{ "defaultAction": ').message).toMatch(/^seccomp profile \/p\/seccomp\.json: not valid JSON: /);
    expect(err('{ "defaultAction": ').code).toBe('SPEC_INVALID');
    expect(err('{ "defaultAction": 7 }').message).toMatch(/^seccomp profile \/p\/seccomp\.json: defaultAction\.action: 7 is not a seccomp action/);
    const twice = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' },
        { names: ['mkdir'], action: 'SCMP_ACT_KILL' },
      ],
    };
    expect(err(JSON.stringify(twice)).message).toMatch(/gives mkdir two different actions/);
    expect(checkProfile(JSON.stringify(NO_MKDIR), '/p/seccomp.json', DEFAULT_CAPABILITIES)).toEqual(NO_MKDIR);
  });
});
