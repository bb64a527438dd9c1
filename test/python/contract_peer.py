"""Python peer of test/contract/python-sdk.test.ts: a Python service that uses exportSnapshot over Temporal.

Reads a scenario (JSON) on stdin, runs its own worker with the listener workflow (listener_workflow.py) on its own
task queue, and for each export: starts the listener, starts `exportSnapshot` by name with a plain dict, queries
`progress` typed as ExportProgress while it runs (cancelling it when asked), waits for the result typed as
ExportCompletion, and collects what the listener received. Prints one JSON report on stdout; the TypeScript test
asserts on it. The SDK's own warnings (e.g. a signal dropped because it did not decode) go to stderr.
"""

import asyncio
import dataclasses
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "python"))

import jsonschema  # noqa: E402
import temporalio  # noqa: E402
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle  # noqa: E402
from temporalio.converter import value_to_type  # noqa: E402
from temporalio.exceptions import ApplicationError  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

import export_contract as contract  # noqa: E402
from listener_workflow import PythonExportListener  # noqa: E402

LISTENER_WAIT_S = 15.0


def fields_of(cls: type) -> List[Dict[str, Any]]:
    return [
        {"name": f.name, "required": f.default is dataclasses.MISSING, "type": str(f.type)}
        for f in dataclasses.fields(cls)
    ]


def typed(cls: type, raw: Any) -> Dict[str, Any]:
    """Decodes `raw` as the SDK's converter does for a parameter typed `cls`."""
    try:
        return {"ok": True, "value": dataclasses.asdict(value_to_type(cls, raw))}
    except Exception as err:  # the converter raises TypeError; report whatever it was
        return {"ok": False, "error": f"{type(err).__name__}: {err}"}


def schema_errors(schema: Dict[str, Any], value: Any) -> List[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(value)]


async def run_export(client: Client, scenario: Dict[str, Any], spec: Dict[str, Any]) -> Dict[str, Any]:
    listener = await client.start_workflow(
        "pythonExportListener", 1, id=spec["listenerId"], task_queue=scenario["listenerTaskQueue"]
    )
    # By name, with a plain dict: no TypeScript types, no workflow code on this side.
    handle: WorkflowHandle = await client.start_workflow(
        contract.EXPORT_SNAPSHOT_WORKFLOW,
        spec["input"],
        id=spec["workflowId"],
        task_queue=scenario["exportTaskQueue"],
    )
    result = asyncio.create_task(handle.result())
    # What the typed progress reads showed while the export ran: each distinct [phase, state] in order, the read
    # that triggered a cancel, and the distinct ways a read failed to decode.
    progress: Dict[str, Any] = {"seen": [], "atCancel": None, "errors": []}
    cancel_when: Optional[Dict[str, Any]] = spec.get("cancelWhen")
    while not result.done():
        try:
            value = dataclasses.asdict(
                await handle.query(contract.EXPORT_PROGRESS_QUERY, result_type=contract.ExportProgress)
            )
            if [value["phase"], value["state"]] not in progress["seen"]:
                progress["seen"].append([value["phase"], value["state"]])
            if cancel_when and progress["atCancel"] is None and all(value.get(k) == v for k, v in cancel_when.items()):
                await handle.cancel()
                progress["atCancel"] = value
        except TypeError as err:  # the query answered, but not in the published shape
            if f"TypeError: {err}" not in progress["errors"]:
                progress["errors"].append(f"TypeError: {err}")
        except Exception:
            pass  # no workflow task yet, or it just closed: ask again
        await asyncio.wait([result], timeout=0.1)

    outcome: Dict[str, Any] = {"cancelled": progress["atCancel"] is not None}
    raw_completion: Any = None
    try:
        raw_completion = await result
        outcome["status"] = "completed"
    except WorkflowFailureError as err:
        cause = err.cause
        outcome.update(status="failed", cause=type(cause).__name__, message=str(cause))
        if isinstance(cause, ApplicationError):
            outcome["failureType"] = cause.type
            raw_completion = cause.details[0] if cause.details else None
    outcome["rawCompletion"] = raw_completion
    if raw_completion is not None:
        outcome["typedCompletion"] = typed(contract.ExportCompletion, raw_completion)
        outcome["schemaErrors"] = schema_errors(contract.load_schema("export-completion.schema.json"), raw_completion)

    try:
        final_raw = await handle.query(contract.EXPORT_PROGRESS_QUERY)
        final = {"raw": final_raw, **typed(contract.ExportProgress, final_raw)}
        final["schemaErrors"] = schema_errors(contract.load_schema("export-progress.schema.json"), final_raw)
    except Exception as err:
        final = {"ok": False, "error": f"{type(err).__name__}: {err}"}

    try:
        received = await asyncio.wait_for(listener.result(), timeout=LISTENER_WAIT_S)
        listener_report = {"completed": True, "received": received}
    except asyncio.TimeoutError:
        received = await listener.query("received")
        await listener.terminate("contract test: no exportCompleted signal arrived")
        listener_report = {"completed": False, "received": received}
    return {
        "workflowId": handle.id,
        "progress": progress,
        "outcome": outcome,
        "finalProgress": final,
        "listener": listener_report,
    }


def detached_from_check(completion: Dict[str, Any]) -> Dict[str, Any]:
    """What the SDK's converter does with a real completion, with and without `detachedFrom` (exportSnapshot
    once left it out unless the export was detached)."""
    without = {k: v for k, v in completion.items() if k != "detachedFrom"}
    return {
        "with": typed(contract.ExportCompletion, {"detachedFrom": None, **without}),
        "without": typed(contract.ExportCompletion, without),
    }


async def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    scenario = json.load(sys.stdin)
    client = await Client.connect(scenario["temporalAddress"], namespace=scenario["namespace"])
    async with Worker(client, task_queue=scenario["listenerTaskQueue"], workflows=[PythonExportListener]):
        names = [spec["name"] for spec in scenario["exports"]]
        results = await asyncio.gather(*(run_export(client, scenario, spec) for spec in scenario["exports"]))
    exports = dict(zip(names, results))
    sample = next((r["outcome"]["rawCompletion"] for r in results if r["outcome"]["rawCompletion"]), None)
    report = {
        "sdkVersion": temporalio.__version__,
        "constants": {
            "workflow": contract.EXPORT_SNAPSHOT_WORKFLOW,
            "taskQueue": contract.DEFAULT_TASK_QUEUE,
            "signal": contract.EXPORT_COMPLETED_SIGNAL,
            "query": contract.EXPORT_PROGRESS_QUERY,
            "workflowId": contract.export_workflow_id(*scenario["idsForConvention"]),
        },
        "completionFields": fields_of(contract.ExportCompletion),
        "progressFields": fields_of(contract.ExportProgress),
        "detachedFromCheck": detached_from_check(sample) if sample else None,
        "exports": exports,
    }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
    # No interpreter teardown: the SDK's native threads can crash it (temporalio/sdk-python#300).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
