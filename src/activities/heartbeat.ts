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

type Activity = (...args: never[]) => Promise<unknown>;

/**
 * Every activity heartbeats for as long as it runs, so a worker that dies in any of
 * them is noticed within the workflows' heartbeat timeout (workflows/activity-options.ts).
 */
export function heartbeating<A extends Record<string, Activity>>(activities: A): A {
  return Object.fromEntries(
    Object.entries(activities).map(([name, run]) => [
      name,
      (...args: never[]) => withHeartbeat(name, run(...args)),
    ]),
  ) as A;
}
