import type { Client } from '@temporalio/client';

export interface RolloutQueueActivities {
  /**
   * Releases of the same model that reached the rollout stage before this one and
   * still run, oldest first. Their rollouts go first: one rollout per model at a time.
   */
  rolloutsAhead(input: { model: string; workflowId: string; startTime: string }): Promise<string[]>;
}

export function createRolloutQueueActivities(client: () => Promise<Client>): RolloutQueueActivities {
  return {
    async rolloutsAhead({ model, workflowId, startTime }) {
      // The model name is checked against MODEL_NAME (letters, digits, dashes) at validation.
      const query = `PavedModel = "${model}" AND PavedStage = "rollout" AND ExecutionStatus = "Running"`;
      const mine = Date.parse(startTime);
      const ahead: Array<{ id: string; at: number }> = [];
      for await (const wf of (await client()).workflow.list({ query })) {
        if (wf.workflowId === workflowId) continue;
        const at = wf.startTime.getTime();
        if (at < mine || (at === mine && wf.workflowId < workflowId)) ahead.push({ id: wf.workflowId, at });
      }
      return ahead.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id)).map((a) => a.id);
    },
  };
}
