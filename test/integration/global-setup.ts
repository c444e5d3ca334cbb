import { applyHostile, restoreHost } from '../support/host-profile.js';

/**
 * Integration tests need root and the real kernel; refuse clearly otherwise.
 * TSCOMPOSE_TEST_HOST=hostile runs the files under the "hostile host" profile (Docker's
 * packet-filter state, test/support/host-profile.ts), restored afterwards whatever happened.
 */
export default function setup(): () => void {
  if (process.getuid?.() !== 0) {
    throw new Error('the integration suite must run as root (it creates namespaces, mounts, cgroups and links)');
  }
  restoreHost(); // a run that was killed under the profile left its record
  if (process.env.TSCOMPOSE_TEST_HOST === 'hostile') applyHostile();
  return () => restoreHost();
}
