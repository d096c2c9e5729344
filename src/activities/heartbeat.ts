import { Context } from '@temporalio/activity';

/** Keeps heartbeats flowing through long quiet steps, so a dead worker is noticed. */
export async function withHeartbeat<T>(step: string, work: Promise<T>): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat(step);
  const timer = setInterval(() => ctx.heartbeat(step), 5000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
