/**
 * libc calls the network part needs besides sockets: namespace switching for persistent
 * network namespace files and the bind mount that keeps them alive.
 */
import { libc } from './libc.js';

export const CLONE_NEWNET = 0x40000000;
export const O_RDONLY = 0;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_CLOEXEC = 0o2000000;
export const MS_BIND = 4096;
export const MNT_DETACH = 2;

export const nsys = {
  open: libc.func('int open(const char *path, int flags, uint32_t mode)') as (p: string, f: number, m: number) => number,
  close: libc.func('int close(int fd)') as (fd: number) => number,
  unshare: libc.func('int unshare(int flags)') as (flags: number) => number,
  setns: libc.func('int setns(int fd, int nstype)') as (fd: number, t: number) => number,
  mount: libc.func('int mount(const char *src, const char *dst, const char *fstype, unsigned long flags, const void *data)') as (
    src: string,
    dst: string,
    fstype: string | null,
    flags: number,
    data: null,
  ) => number,
  umount2: libc.func('int umount2(const char *target, int flags)') as (target: string, flags: number) => number,
};
