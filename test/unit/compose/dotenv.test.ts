import { describe, expect, it } from 'vitest';

import { parseEnvFile } from '../../../src/compose/dotenv.js';

describe('.env parsing (Compose rules)', () => {
  it('handles comments, export, quotes and whitespace', () => {
    const text = [
      '# a comment',
      '',
      'PLAIN=value',
      'export EXPORTED=yes',
      '  SPACED = padded  ',
      'INLINE=value # trailing comment',
      'HASH=a#b',
      "SINGLE='literal $PLAIN \\n'",
      'DOUBLE="line1\\nline2 \\"q\\""',
      'EMPTY=',
      'COLON: style',
    ].join('\n');
    expect(parseEnvFile(text, '.env')).toEqual({
      PLAIN: 'value',
      EXPORTED: 'yes',
      SPACED: 'padded',
      INLINE: 'value',
      HASH: 'a#b',
      SINGLE: 'literal $PLAIN \\n',
      DOUBLE: 'line1\nline2 "q"',
      EMPTY: '',
      COLON: 'style',
    });
  });

  it('expands references to earlier lines and to the shell environment', () => {
    const text = 'BASE=/srv\nDATA=${BASE}/data\nHOMEDIR="$HOME/x"\nDEF=${MISSING:-dflt}\nLIT=$$BASE\n';
    expect(parseEnvFile(text, '.env', (n) => (n === 'HOME' ? '/root' : undefined))).toEqual({
      BASE: '/srv',
      DATA: '/srv/data',
      HOMEDIR: '/root/x',
      DEF: 'dflt',
      LIT: '$BASE',
    });
  });

  it('supports double-quoted values across lines', () => {
    expect(parseEnvFile('CERT="-----BEGIN-----\nabc\n-----END-----"\nNEXT=1\n', '.env')).toEqual({
      CERT: '-----BEGIN-----\nabc\n-----END-----',
      NEXT: '1',
    });
  });

  it('takes a bare KEY from the shell, else leaves it out', () => {
    expect(parseEnvFile('FROM_SHELL\nNOT_SET\n', '.env', (n) => (n === 'FROM_SHELL' ? 's' : undefined))).toEqual({ FROM_SHELL: 's' });
  });

  it('reports the line of a broken entry', () => {
    expect(() => parseEnvFile('A=1\n=oops\n', 'x.env')).toThrow(/x\.env:2/);
    expect(() => parseEnvFile('A="open\n', 'x.env')).toThrow(/unterminated/);
  });
});
