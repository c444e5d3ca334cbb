import { afterAll, afterEach, expect } from 'vitest';
import { cleanupProjects, removeBusyboxArchive } from '../support/cli.js';

// every integration test: bring down the CLI projects it made; none may leave a kernel object
afterEach(async () => {
  expect(await cleanupProjects()).toEqual([]);
});

// every integration test file: remove the image archive the CLI tests built, if any
afterAll(() => removeBusyboxArchive());
