/**
 * The one way the loader reads a file a user named or a project points at (compose files,
 * `include`, `extends.file`, `.env`, `--env-file`, `env_file`; the apply layer's seccomp
 * profile files too): only a regular file (symlinks
 * followed), opened without blocking so a FIFO cannot hang the load, at most LIMITS.fileBytes,
 * and without raw control characters, which no Compose file or env file holds.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

import { TscError } from '../common/errors.js';
import { LIMITS } from './limits.js';

const MB = (n: number): string => `${n / (1024 * 1024)} MiB`;

/** Reads `file` (a `what`: "compose file", "env file") as UTF-8, refusing anything but a regular file of bounded size. */
export function readUserFile(file: string, what: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'ELOOP' ? 'too many symbolic links' : String(code ?? e);
    throw new TscError('SPEC_NOT_FOUND', `cannot read ${what} ${file}: ${why}`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      const kind = st.isDirectory()
        ? 'a directory'
        : st.isFIFO()
          ? 'a named pipe'
          : st.isCharacterDevice()
            ? 'a character device'
            : st.isBlockDevice()
              ? 'a block device'
              : st.isSocket()
                ? 'a socket'
                : 'not a regular file';
      throw new TscError('SPEC_NOT_FOUND', `${what} ${file} is ${kind}: tscompose reads only regular files`, {
        hint: 'name a regular file (a symbolic link to one is fine)',
      });
    }
    const tooBig = (): TscError =>
      new TscError('SPEC_INVALID', `${what} ${file} is larger than ${MB(LIMITS.fileBytes)}, the most tscompose reads from one file`);
    if (st.size > LIMITS.fileBytes) throw tooBig();
    // read up to one byte past the limit: a file may grow, and some (in /proc) report size 0
    const buf = Buffer.alloc(Math.min(LIMITS.fileBytes + 1, Math.max(st.size + 1, 64 * 1024)));
    let len = 0;
    let chunk = buf;
    for (;;) {
      if (len === chunk.length) {
        if (chunk.length > LIMITS.fileBytes) throw tooBig();
        const bigger = Buffer.alloc(Math.min(LIMITS.fileBytes + 1, chunk.length * 2));
        chunk.copy(bigger, 0, 0, len);
        chunk = bigger;
      }
      let n: number;
      try {
        n = readSync(fd, chunk, len, chunk.length - len, null);
      } catch (e) {
        throw new TscError('SPEC_NOT_FOUND', `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
      }
      if (n === 0) break;
      len += n;
    }
    const text = chunk.subarray(0, len).toString('utf8');
    checkControlCharacters(text, file);
    return text;
  } finally {
    closeSync(fd);
  }
}

/** Refuses NUL and the other C0 control characters (tab, line feed and carriage return aside) and DEL, at their line and column. */
export function checkControlCharacters(text: string, file: string): void {
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.exec(text);
  if (!bad) return;
  const before = text.slice(0, bad.index);
  const line = before.split('\n').length;
  const col = bad.index - before.lastIndexOf('\n');
  const code = bad[0].charCodeAt(0).toString(16).padStart(2, '0');
  throw new TscError('SPEC_PARSE', `${file}:${line}:${col}: control character U+00${code.toUpperCase()} in the file`, {
    hint: 'remove it; in a double-quoted YAML string write an escape such as \\t or \\n instead',
  });
}
