"""Export an Atlas snapshot to a bucket from Python, and wait for the outcome.

    python3 -m pip install -r examples/python/requirements.txt
    TEMPORAL_ADDRESS=localhost:7233 python3 examples/python/start_export.py GROUP_ID CLUSTER SNAPSHOT_ID BUCKET_ID

A worker of this service must run (npm run worker). Exits 0 when the export succeeded, 1 otherwise.
"""

import argparse
import asyncio
import os
import sys

from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.converter import value_to_type
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

# Typed from schemas/*.schema.json; the names match src/shared/contract/export-contract.ts.
from export_contract import DEFAULT_TASK_QUEUE, EXPORT_SNAPSHOT_WORKFLOW, ExportCompletion, export_workflow_id


async def main() -> int:
    parser = argparse.ArgumentParser(description="Start exportSnapshot and wait for it.")
    parser.add_argument("group_id")
    parser.add_argument("cluster_name")
    parser.add_argument("snapshot_id")
    parser.add_argument("export_bucket_id")
    parser.add_argument("--address", default=os.environ.get("TEMPORAL_ADDRESS", "localhost:7233"))
    parser.add_argument("--namespace", default=os.environ.get("TEMPORAL_NAMESPACE", "default"))
    parser.add_argument("--task-queue", default=DEFAULT_TASK_QUEUE)
    parser.add_argument("--time-scale", type=float, help="only against the Atlas simulator (polling.timeScale)")
    args = parser.parse_args()

    # The input is a plain dict with the contract's field names (schemas/export-snapshot-input.schema.json).
    ids = [args.group_id, args.cluster_name, args.snapshot_id, args.export_bucket_id]
    export = dict(zip(["groupId", "clusterName", "snapshotId", "exportBucketId"], ids))
    if args.time_scale:
        export["polling"] = {"timeScale": args.time_scale}

    client = await Client.connect(args.address, namespace=args.namespace)
    # The documented workflow id: starting the same export again attaches to the running one, and one that
    # already succeeded is not redone (the start is refused; its result is read instead).
    workflow_id = export_workflow_id(*ids)
    try:
        handle = await client.start_workflow(
            EXPORT_SNAPSHOT_WORKFLOW,
            export,
            id=workflow_id,
            task_queue=args.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            result_type=ExportCompletion,
        )
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle(workflow_id, result_type=ExportCompletion)
    try:
        completion = await handle.result()
    except WorkflowFailureError as err:
        # Failed, Cancelled, CreateFailed and the polling deadline fail the workflow; the completion is the
        # failure's first detail, and the failure type says why (e.g. ExportFailed, CLUSTER_NOT_FOUND).
        cause = err.cause
        if not (isinstance(cause, ApplicationError) and cause.details):
            print(f"{handle.id} ended without an outcome: {cause}")
            return 1
        completion = value_to_type(ExportCompletion, cause.details[0])
        print(f"{handle.id} failed ({cause.type}): {cause.message}")

    c = completion
    if c.state == "Successful":
        count = f"{c.exportedCollections}/{c.totalCollections}"
        print(f"Successful: job {c.exportJobId}, {count} collections in {c.prefix}")
        return 0
    if c.state in ("Failed", "Cancelled"):
        reason = c.stateReason
        print(f"{c.state} in Atlas: {reason.errorCode if reason else '-'} {reason.message if reason else ''}")
    elif c.state == "CreateFailed":
        print("Atlas refused to create the export job; nothing was exported")
    elif not c.terminal:
        print(f"Stopped waiting while the job was {c.state}; Atlas may still be running job {c.exportJobId}")
    else:
        print(f"Ended {c.state}")
    return 1


def exit_now(code: int) -> None:
    """Exits without interpreter teardown, which the SDK's native threads can crash after the loop ended
    (temporalio/sdk-python#300: "PyGILState_Release ... finalizing", exit code 1 after a Successful export)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(asyncio.run(main()))
