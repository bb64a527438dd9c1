import { Command } from 'commander';
import { describeExport } from '../../client/exports';
import { action, outputOf, type CliRun } from '../action';
import { withClient } from '../connect';
import { printOutcome } from '../outcome';

/** `result WORKFLOW_ID`: wait for an export's outcome; exit 0 on Successful, 1 otherwise. */
export function resultCommand(run: CliRun): Command {
  return new Command('result')
    .summary("wait for an export's result")
    .description("Wait for an export's result; exit 0 on Successful, 1 otherwise.")
    .argument('<workflow-id>', "the export's workflow id")
    .action(
      action(run, (cmd: Command, workflowId: string) => {
        const out = outputOf(cmd);
        return withClient(async (client) => {
          await describeExport(client, workflowId);
          return printOutcome(client.workflow.getHandle(workflowId), out);
        });
      })
    );
}
