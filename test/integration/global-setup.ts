/** Integration tests need root and the real kernel; refuse clearly otherwise. */
export default function setup(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the integration suite must run as root (it creates namespaces, mounts, cgroups and links)');
  }
}
