import { Command, CommanderError } from 'commander';

import { registerCommands } from './commands/index.js';
import { exitCodeFor, formatError } from './reporter.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('tscompose');
  program
    .description('Define and run multi-container applications from Compose files, with its own container engine')
    .option('-f, --file <file>', 'Compose configuration files', collect)
    .option('-p, --project-name <name>', 'Project name')
    .option('--project-directory <dir>', "Alternate working directory (default: the first compose file's directory)")
    .option('--env-file <file>', 'Alternate environment files', collect)
    .option('--profile <profile>', 'Profiles to enable', collect)
    .option('--debug', 'Show stack traces for errors')
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();
  await registerCommands(program, argv);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed help/version/usage text
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return err.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(formatError(err, debug) + '\n');
    return exitCodeFor(err);
  }
}
