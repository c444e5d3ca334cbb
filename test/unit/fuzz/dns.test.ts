/**
 * Fuzzing the DNS server's packet code (src/network/dns-packet.ts) with random and mutated
 * messages, as the server meets them from containers and upstream resolvers: parsing a query,
 * answering it, cutting the answer for UDP and reading answers back either succeed or throw
 * DnsFormatError; nothing else is thrown and nothing loops.
 */
import { describe, expect, it } from 'vitest';

import { buildResponse, DnsFormatError, formErr, parseAnswers, parseQuery, truncateAnswer } from '../../../src/network/dns-packet.js';
import { dnsMessage } from '../../fuzz/dns-gen.js';
import { caseSeed, Rng } from '../../fuzz/rng.js';

const seed = Number(process.env.FUZZ_SEED ?? 14);
const cases = Number(process.env.FUZZ_DNS_CASES ?? 3000);

describe('DNS packet fuzzing', () => {
  it(`${cases} messages from seed ${seed}: a result or DnsFormatError, never another error`, async () => {
    const bad: string[] = [];
    let parsed = 0;
    let refused = 0;
    for (let i = 0; i < cases; i++) {
      // let the test runner's messages through now and then
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
      const msg = dnsMessage(new Rng(caseSeed(seed, i)));
      for (const [what, f] of [
        ['parseQuery+buildResponse', () => buildResponse(parseQuery(msg), 0, [])],
        ['parseAnswers', () => parseAnswers(msg)],
        ['truncateAnswer', () => truncateAnswer(msg, 512)],
        ['formErr', () => formErr(msg)],
      ] as const) {
        try {
          f();
          parsed++;
        } catch (e) {
          if (e instanceof DnsFormatError) refused++;
          else bad.push(`seed ${seed} case ${i}: ${what}: ${String(e)}\n  message: ${msg.toString('hex')}`);
        }
      }
    }
    console.log(`DNS fuzz: seed ${seed}, ${cases} messages, ${parsed + refused} calls: ${parsed} answered, ${refused} DnsFormatError, ${bad.length} other`);
    expect(bad.slice(0, 10), bad.slice(0, 10).join('\n')).toEqual([]);
  });
});
