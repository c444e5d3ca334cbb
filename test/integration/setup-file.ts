import { afterAll } from 'vitest';
import { removeBusyboxArchive } from '../support/cli.js';

// every integration test file: remove the image archive the CLI tests built, if any
afterAll(() => removeBusyboxArchive());
