/**
 * libc calls the network part needs besides sockets: namespace switching for persistent
 * network namespace files and the bind mount that keeps them alive.
 */
import { fns } from './libc.js';

export const CLONE_NEWNET = 0x40000000;
export const O_RDONLY = 0;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_CLOEXEC = 0o2000000;
export const MS_BIND = 4096;
export const MNT_DETACH = 2;

/** the calls of the network part, from the one libc table */
export const nsys = {
  open: fns.open,
  close: fns.close,
  unshare: fns.unshare,
  setns: fns.setns,
  mount: fns.mount,
  umount2: fns.umount2,
};
