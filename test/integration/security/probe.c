/*
 * Escape probes run inside a container (compiled static by the test with the host's gcc).
 * Each probe prints one line: "<name> <result>", the result being OK (the call succeeded)
 * or the errno's name (EPERM, EACCES, EROFS, ENOSYS, ESRCH, ...).
 *
 *   probe all <host pid> <disk major:minor> <host pidns>   every probe below, in order (with probe32.c's
 *                                                          i386 and x32 calls on x86_64)
 *   probe exe-watch <dev:ino> <seconds> <host pidns>       report any /proc/<pid>/exe resolving to that file,
 *                                                          and count the processes whose exe is refused (EACCES)
 * It refuses to run in the PID namespace whose inode is given last (the host's): the probes
 * would otherwise act on the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
/* probe32.c, when linked in (weak: the exe-watch uses build the probe without it) */
void i386_probes(void (*report)(const char *, long), int *err) __attribute__((weak));
#endif

static void report(const char *name, long ret) {
  printf("%s%s%s\n", name, *name ? " " : "", ret >= 0 ? "OK" : strerrorname_np(errno));
  fflush(stdout);
}

/* open for writing and write one byte: the result of whichever fails first */
static void write_probe(const char *name, const char *path, const char *data) {
  int fd = open(path, O_WRONLY);
  long r = fd;
  if (fd >= 0) {
    r = write(fd, data, strlen(data));
    close(fd);
  }
  report(name, r);
}

/* Docker's masked paths: a masked file reads as empty, a masked directory lists nothing */
static void masked_probe(const char *path) {
  char buf[64];
  struct stat st;
  printf("masked:%s ", path);
  if (stat(path, &st) != 0) return report("", -1);
  int entries = 0;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) entries += e->d_name[0] != '.';
    if (d) closedir(d);
  } else {
    int fd = open(path, O_RDONLY);
    entries = fd >= 0 && read(fd, buf, sizeof buf) > 0;
    if (fd >= 0) close(fd);
  }
  printf("%s\n", entries == 0 ? "EMPTY" : "LEAK");
}

/* Docker's read-only paths: the mount holding the path is read-only */
static void readonly_probe(const char *path) {
  struct statvfs v;
  printf("readonly:%s ", path);
  if (statvfs(path, &v) != 0) return report("", -1);
  printf("%s\n", v.f_flag & ST_RDONLY ? "RO" : "RW");
}

static void status_line(const char *key) {
  char line[256];
  FILE *f = fopen("/proc/self/status", "r");
  while (f && fgets(line, sizeof line, f)) {
    if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') {
      char *v = line + strlen(key) + 1;
      while (*v == '\t' || *v == ' ') v++;
      v[strcspn(v, "\n")] = 0;
      printf("%s %s\n", key, v);
    }
  }
  if (f) fclose(f);
}

static int all(pid_t host_pid, unsigned disk_major, unsigned disk_minor) {
  status_line("CapBnd");
  status_line("CapEff");
  status_line("NoNewPrivs");
  status_line("Seccomp");

  write_probe("write-sysrq-trigger", "/proc/sysrq-trigger", "h");
  write_probe("write-proc-sys-hostname", "/proc/sys/kernel/hostname", "escaped");
  write_probe("write-proc-sys-core_pattern", "/proc/sys/kernel/core_pattern", "|/escape");
  write_probe("write-sys-uevent_helper", "/sys/kernel/uevent_helper", "/escape");
  write_probe("write-sys-fs-cgroup", access("/sys/fs/cgroup/pids", F_OK) == 0 ? "/sys/fs/cgroup/pids/cgroup.procs" : "/sys/fs/cgroup/cgroup.procs", "1");
  const char *masked[] = {"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"};
  for (unsigned i = 0; i < sizeof masked / sizeof *masked; i++) masked_probe(masked[i]);
  const char *readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", "/sys", "/sys/fs/cgroup"};
  for (unsigned i = 0; i < sizeof readonly / sizeof *readonly; i++) readonly_probe(readonly[i]);
  write_probe("write-notify_on_release", "/sys/fs/cgroup/memory/notify_on_release", "1");

  /* a block device node for the host's disk: creating it is allowed (CAP_MKNOD), opening is not */
  unlink("/dev/tsc-disk");
  report("mknod-disk", mknod("/dev/tsc-disk", S_IFBLK | 0600, makedev(disk_major, disk_minor)));
  report("open-disk", open("/dev/tsc-disk", O_RDONLY));

  mkdir("/tmp/mnt", 0755);
  report("mount-tmpfs", mount("none", "/tmp/mnt", "tmpfs", 0, NULL));
  report("mount-proc", mount("proc", "/tmp/mnt", "proc", 0, NULL));
  report("mount-bind", mount("/", "/tmp/mnt", NULL, MS_BIND, NULL));
  report("mount-cgroup-v1", mount("cgroup", "/tmp/mnt", "cgroup", 0, "rdma"));
  report("mount-cgroup2", mount("cgroup2", "/tmp/mnt", "cgroup2", 0, NULL));
  report("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
  report("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */));
  write_probe("write-release_agent", "/sys/fs/cgroup/memory/release_agent", "/escape");

  report("init_module", syscall(SYS_init_module, "", 0, ""));
  int nullfd = open("/dev/null", O_RDONLY);
  report("finit_module", syscall(SYS_finit_module, nullfd, "", 0));
  report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0xffff0000)); /* invalid flags: EINVAL if ever let through */

  report("kill-host-pid", kill(host_pid, 0));
  report("ptrace-host-pid", ptrace(PTRACE_ATTACH, host_pid, 0, 0));

  report("unshare-user", unshare(CLONE_NEWUSER));
  report("unshare-mount", unshare(CLONE_NEWNS));
  report("unshare-net", unshare(CLONE_NEWNET));
  long child = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (child == 0) _exit(0);
  report("clone-newuser", child);
  if (child > 0) waitpid(child, NULL, 0);
  report("clone3", syscall(SYS_clone3, NULL, 0));
  report("setns", setns(0, 0));

  report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
  report("add_key", syscall(SYS_add_key, "user", "tsc-probe", "x", 1, KEY_SPEC_SESSION_KEYRING));
  report("request_key", syscall(SYS_request_key, "user", "tsc-probe", NULL, 0));
  report("bpf", syscall(SYS_bpf, 0, NULL, 0));
  struct perf_event_attr attr = {.type = PERF_TYPE_SOFTWARE, .size = sizeof attr, .config = PERF_COUNT_SW_CPU_CLOCK};
  report("perf_event_open", syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
  report("userfaultfd", syscall(SYS_userfaultfd, 0));
  report("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
  report("socket-vsock", syscall(SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0));
  report("personality-addr-no-randomize", syscall(SYS_personality, 0x0040000));
  report("reboot", syscall(SYS_reboot, 0, 0, 0, NULL)); /* no magic: EINVAL if ever let through */
  report("swapon", syscall(SYS_swapon, "/dev/null", 0));
  report("settimeofday", syscall(SYS_settimeofday, NULL, NULL));
  report("syslog", syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0));

#if defined(__x86_64__)
  /* 32-bit programs: Docker's profile takes i386 and x32 calls by the same rules */
  if (i386_probes) i386_probes(report, &errno);
  const long x32 = 0x40000000; /* __X32_SYSCALL_BIT; x32's numbers for these are x86_64's (<asm/unistd_x32.h>) */
  report("x32-getpid", syscall(x32 | SYS_getpid));
  report("x32-mount", syscall(x32 | SYS_mount, "none", "/tmp/mnt", "tmpfs", 0, NULL));
  report("x32-unshare", syscall(x32 | SYS_unshare, CLONE_NEWNS));
  report("x32-keyctl", syscall(x32 | SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
#endif

  /* ptrace of the container's own PID 1 (an init: true reaper is tscompose's code: refused) */
  long traced = ptrace(PTRACE_ATTACH, 1, 0, 0);
  report("ptrace-pid1", traced);
  if (traced == 0) {
    waitpid(1, NULL, __WALL);
    ptrace(PTRACE_DETACH, 1, 0, 0);
  }
  report("readlink-pid1-exe", readlink("/proc/1/exe", (char[256]){0}, 255));
  report("open-pid1-exe-write", open("/proc/1/exe", O_WRONLY));
  return 0;
}

/* Polls every process's exe for `seconds`: prints REACHABLE <pid> when one is the watched file. */
static int exe_watch(dev_t dev, ino_t ino, int seconds) {
  time_t end = time(NULL) + seconds;
  long checks = 0;
  int last = 0, last_hidden = 0, hidden = 0;
  while (time(NULL) < end) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      char p[300];
      struct stat st;
      snprintf(p, sizeof p, "/proc/%s/exe", e->d_name);
      checks++;
      int r = stat(p, &st);
      if (r != 0 && errno == EACCES && atoi(e->d_name) != last_hidden) {
        last_hidden = atoi(e->d_name); /* a non-dumpable process: an exec stage before its execve */
        hidden++;
      }
      if (r == 0 && st.st_dev == dev && st.st_ino == ino && atoi(e->d_name) != last) {
        last = atoi(e->d_name);
        int fd = open(p, O_WRONLY);
        printf("REACHABLE %s write=%s\n", e->d_name, fd >= 0 ? "OK" : strerrorname_np(errno));
        fflush(stdout);
      }
    }
    if (d) closedir(d);
  }
  printf("watched %ld hidden %d\n", checks, hidden);
  return 0;
}

int main(int argc, char **argv) {
  /* a guard: never probe in the caller's own PID namespace (that would be the host) */
  struct stat ns;
  if (argc < 5 || stat("/proc/self/ns/pid", &ns) != 0 || (unsigned long)ns.st_ino == strtoul(argv[argc - 1], NULL, 10)) {
    fprintf(stderr, "probe: refusing to run outside a container (give the host's PID namespace inode last)\n");
    return 2;
  }
  if (argc == 5 && !strcmp(argv[1], "all")) {
    unsigned ma = 0, mi = 0;
    sscanf(argv[3], "%u:%u", &ma, &mi);
    return all(atoi(argv[2]), ma, mi);
  }
  if (argc == 5 && !strcmp(argv[1], "exe-watch")) {
    unsigned long dev = 0, ino = 0;
    sscanf(argv[2], "%lu:%lu", &dev, &ino);
    return exe_watch(dev, ino, atoi(argv[3]));
  }
  fprintf(stderr, "usage: probe all <host pid> <major:minor> <host pidns> | probe exe-watch <dev:ino> <seconds> <host pidns>\n");
  return 2;
}
