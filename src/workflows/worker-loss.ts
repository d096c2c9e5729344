/**
 * Every activity heartbeats while it runs (activities/heartbeat.ts). One whose worker
 * died (killed, out of memory, its machine gone) is noticed after this long and
 * retried on another worker, instead of after its start-to-close timeout, which is
 * minutes for a build or a shadow.
 */
export const WORKER_LOSS_NOTICED_AFTER = '15 seconds';
