/**
 * Splits a command string into words the way Compose does for `command: "sh -c 'echo hi'"`
 * (POSIX-shell-like quoting: single quotes literal, double quotes with backslash escapes,
 * backslash escapes outside quotes). No expansion of variables or globs. Returns undefined
 * when a quote is left open.
 */
export function splitShellWords(input: string): string[] | undefined {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) return undefined;
      cur += input.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < input.length) {
        const d = input[i];
        if (d === '\\' && i + 1 < input.length && '"\\$`\n'.includes(input[i + 1])) {
          cur += input[i + 1];
          i += 2;
        } else if (d === '"') {
          closed = true;
          i++;
          break;
        } else {
          cur += d;
          i++;
        }
      }
      if (!closed) return undefined;
      inWord = true;
    } else if (c === '\\' && i + 1 < input.length) {
      cur += input[i + 1];
      inWord = true;
      i += 2;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
