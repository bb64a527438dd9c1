import { type Command } from 'commander';
import { describeExport } from '../../client/exports';
import { workflowIdCommand, type CliRun } from '../action';
import { printOutcome } from '../outcome';

/** `result WORKFLOW_ID`: wait for an export's outcome; exit 0 on Successful, 1 otherwise. */
export function resultCommand(run: CliRun): Command {
  return workflowIdCommand(run, {
    name: 'result',
    summary: "wait for an export's result",
    description: "Wait for an export's result; exit 0 on Successful, 1 otherwise.",
    whose: "the export's",
    run: async (client, workflowId, out) => {
      await describeExport(client, workflowId);
      return printOutcome(client.workflow.getHandle(workflowId), out);
    },
  });
}
