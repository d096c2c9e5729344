import { Command, CommanderError } from 'commander';
import { ConfigError } from '../domain/config.js';
import { registerStackCommands } from './commands/stack.js';
import { registerWorkerCommand } from './commands/worker.js';
import { registerDemoCommand } from './commands/demo.js';

const program = new Command('paved')
  .description('paved: the paved road from notebook to production for ML models')
  .showHelpAfterError()
  .exitOverride();

registerStackCommands(program);
registerWorkerCommand(program);
registerDemoCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else {
    // Known failures get their message alone; anything else keeps its stack for a bug report.
    const known =
      err instanceof ConfigError || (err instanceof Error && /Error$/.test(err.name) && err.name !== 'Error');
    process.stderr.write(
      `paved: ${known ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  }
}
