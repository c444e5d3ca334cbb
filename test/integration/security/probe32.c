/*
 * The probe's 32-bit calls (compiled and linked with probe.c, x86_64 only). A 64-bit program
 * makes i386 calls with `int $0x80` (seccomp sees AUDIT_ARCH_I386 and i386 numbers, from the
 * kernel's <asm/unistd_32.h>) and x32 calls with `syscall` and the number's bit 30 set
 * (AUDIT_ARCH_X86_64; x32 shares x86_64's numbers for these calls, <asm/unistd_x32.h>). No
 * 32-bit C library is needed. Pointers passed to i386 calls must lie below 4 GiB: the probe
 * is a static, non-PIE program, so its strings do.
 */
#include <asm/unistd_32.h>

typedef void (*report_fn)(const char *name, long ret);

/* an i386 call: -errno comes back in eax as a 32-bit value */
static long i386_call(long nr, long a, long b, long c, long d, long e) {
  long ret;
  register long r8 __asm__("r8") = 0; /* int $0x80 clobbers r8-r11 in a 64-bit task */
  __asm__ volatile("int $0x80" : "=a"(ret), "+r"(r8) : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e) : "memory", "r9", "r10", "r11");
  return (int)ret;
}

/* as libc's syscall(): -1 with errno set on failure */
static long as_libc(long ret, int *err) {
  if (ret < 0 && ret > -4096) {
    *err = (int)-ret;
    return -1;
  }
  return ret;
}

void i386_probes(report_fn report, int *err) {
  report("i386-getpid", as_libc(i386_call(__NR_getpid, 0, 0, 0, 0, 0), err));
  report("i386-write", as_libc(i386_call(__NR_write, 1, (long)"", 0, 0, 0), err));
  report("i386-mount", as_libc(i386_call(__NR_mount, (long)"none", (long)"/tmp", (long)"tmpfs", 0, 0), err));
  report("i386-unshare", as_libc(i386_call(__NR_unshare, 0x00020000 /* CLONE_NEWNS */, 0, 0, 0, 0), err));
  report("i386-keyctl", as_libc(i386_call(__NR_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* KEY_SPEC_SESSION_KEYRING */, 0, 0, 0), err));
}
