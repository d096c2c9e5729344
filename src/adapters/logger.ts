import { pino, type Logger } from 'pino';

/** JSON logs to stderr so that stdout stays free for command output (tables, --json). */
export function createLogger(name: string, level = process.env.PAVED_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

export type { Logger };
