import { Command, CommanderError } from 'commander';
import { PavedError } from '../domain/errors.js';

type Register = (program: Command) => void;

// Each command's module is loaded only when that command runs: `paved validate`
// should not pay for the Temporal and Docker clients. Help loads them all.
const COMMANDS: Record<string, () => Promise<Register>> = {
  init: async () => (await import('./commands/init.js')).registerInitCommand,
  train: async () => (await import('./commands/train.js')).registerTrainCommand,
  validate: async () => (await import('./commands/validate.js')).registerValidateCommand,
  release: async () => (await import('./commands/release.js')).registerReleaseCommand,
  status: async () => (await import('./commands/status.js')).registerStatusCommand,
  reviews: async () => (await import('./commands/reviews.js')).registerReviewCommands,
  audit: async () => (await import('./commands/audit.js')).registerAuditCommand,
  stack: async () => (await import('./commands/stack.js')).registerStackCommands,
  worker: async () => (await import('./commands/worker.js')).registerWorkerCommand,
  gateway: async () => (await import('./commands/gateway.js')).registerGatewayCommand,
  'rollout-control': async () =>
    (await import('./commands/rollout-control.js')).registerRolloutControlCommands,
  report: async () => (await import('./commands/report.js')).registerReportCommand,
  replay: async () => (await import('./commands/replay.js')).registerReplayCommand,
  try: async () => (await import('./commands/try.js')).registerTryCommand,
  demo: async () => (await import('./commands/demo.js')).registerDemoCommand,
  janitor: async () => (await import('./commands/janitor.js')).registerJanitorCommand,
};
const ALIASES: Record<string, string> = {
  approve: 'reviews',
  reject: 'reviews',
  smoke: 'demo',
  pause: 'rollout-control',
  resume: 'rollout-control',
  abort: 'rollout-control',
  promote: 'rollout-control',
};

const program = new Command('paved')
  .description('paved: the paved road from notebook to production for ML models')
  .showHelpAfterError()
  .exitOverride();

const asked = process.argv[2] ?? '';
const name = ALIASES[asked] ?? asked;
const wanted = COMMANDS[name] ? [COMMANDS[name]] : Object.values(COMMANDS);
for (const load of wanted) (await load())(program);

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
    process.exitCode = err instanceof PavedError ? err.exitCode : 1;
  }
}
