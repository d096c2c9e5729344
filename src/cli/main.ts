import { Command, CommanderError } from 'commander';
import { PavedError } from '../domain/errors.js';
import { registerStackCommands } from './commands/stack.js';
import { registerWorkerCommand } from './commands/worker.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerReleaseCommand } from './commands/release.js';
import { registerStatusCommand } from './commands/status.js';
import { registerReviewCommands } from './commands/reviews.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerValidateCommand } from './commands/validate.js';

const program = new Command('paved')
  .description('paved: the paved road from notebook to production for ML models')
  .showHelpAfterError()
  .exitOverride();

registerValidateCommand(program);
registerReleaseCommand(program);
registerStatusCommand(program);
registerReviewCommands(program);
registerAuditCommand(program);
registerStackCommands(program);
registerWorkerCommand(program);
registerDemoCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else {
    // A PavedError is written for the reader; anything else keeps its stack for a bug report.
    const text =
      err instanceof PavedError
        ? err.message
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err);
    process.stderr.write(`paved: ${text}\n`);
    process.exitCode = 1;
  }
}
