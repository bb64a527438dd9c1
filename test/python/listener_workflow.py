"""A Python caller's listener workflow: receives exportSnapshot's `exportCompleted` signal, typed with the
ExportCompletion dataclass built from schemas/export-completion.schema.json (examples/python/export_contract.py)."""

import dataclasses
from typing import Any, Dict, List

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from export_contract import EXPORT_COMPLETED_SIGNAL, ExportCompletion


@workflow.defn(name="pythonExportListener")
class PythonExportListener:
    def __init__(self) -> None:
        self._received: List[Any] = []

    @workflow.run
    async def run(self, expected: int) -> List[Dict[str, Any]]:
        await workflow.wait_condition(lambda: len(self._received) >= expected)
        return self.received()

    @workflow.signal(name=EXPORT_COMPLETED_SIGNAL)
    def export_completed(self, completion: ExportCompletion) -> None:  # type: ignore[valid-type]
        self._received.append(completion)

    @workflow.query(name="received")
    def received(self) -> List[Dict[str, Any]]:
        # The class name proves the SDK decoded the payload into the schema's dataclass, not a plain dict.
        return [{"type": type(c).__name__, "value": dataclasses.asdict(c)} for c in self._received]
