import { defineConfig } from 'vitest/config';

// Two suites: `unit` needs no privileges and no kernel objects; `integration` runs as root
// against the real kernel (namespaces, mounts, cgroups, netlink) and a local registry.
export default defineConfig({
  test: {
    // Kernel-level tests share the machine's cgroup and network tables: keep files serial. Vitest
    // reads this at the root only (a project's own setting is ignored), so it holds for both
    // suites; on the project's 2-core machines vitest used one worker anyway.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          globalSetup: ['test/integration/global-setup.ts'],
          setupFiles: ['test/integration/setup-file.ts'],
        },
      },
    ],
  },
});
