"""The exportSnapshot contract for Python callers, typed from the published JSON Schemas in schemas/.

`ExportCompletion` (the `exportCompleted` signal and the workflow result) and `ExportProgress` (the `progress`
query) are dataclasses built at import from schemas/export-completion.schema.json and
schemas/export-progress.schema.json: a required property is a field without a default, a nullable one is
`Optional[...]`. The Temporal Python SDK's data converter then refuses a payload that misses a required field, so
a listener typed this way only accepts completions that follow the published contract.

Set ATLAS_EXPORT_SCHEMAS to read the schemas from another directory (e.g. a copy of a released version).
"""

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Literal, Optional, Tuple, Union

SCHEMAS_DIR = Path(os.environ.get("ATLAS_EXPORT_SCHEMAS") or Path(__file__).resolve().parents[2] / "schemas")

# Names shared with src/shared/contract/export-contract.ts: the workflow type, its default task queue, its messages.
EXPORT_SNAPSHOT_WORKFLOW = "exportSnapshot"
DEFAULT_TASK_QUEUE = "atlas-exports"
EXPORT_COMPLETED_SIGNAL = "exportCompleted"
EXPORT_PROGRESS_QUERY = "progress"


def export_workflow_id(group_id: str, cluster_name: str, snapshot_id: str, export_bucket_id: str) -> str:
    """The documented default workflow id (exportWorkflowId in src/shared/contract/workflow-ids.ts): every caller that
    starts the same export uses the same id, so Temporal runs it once."""
    return f"atlas-export-{group_id}-{cluster_name}-{snapshot_id}-{export_bucket_id}"


_PRIMITIVES: Dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool}


def dataclass_from_schema(schema: Dict[str, Any], name: str) -> type:
    """A dataclass for a JSON Schema object (draft 2020-12 subset: type, properties, required, items, enum,
    const, anyOf/oneOf, local $ref). Nested objects with properties become nested dataclasses."""
    return _object_type(schema, name, schema)


def _object_type(schema: Dict[str, Any], name: str, root: Dict[str, Any]) -> type:
    required = set(schema.get("required", []))
    mandatory: List[Tuple[str, Any]] = []
    optional: List[Tuple[str, Any, dataclasses.Field]] = []
    for prop, sub in schema.get("properties", {}).items():
        hint = _type_of(sub, name + _pascal(prop), root)
        if prop in required:
            mandatory.append((prop, hint))
        else:
            # Absent is allowed: default None, typed Optional so the default is a valid value.
            optional.append((prop, Optional[hint], dataclasses.field(default=None)))
    cls = dataclasses.make_dataclass(schema.get("title") or name, [*mandatory, *optional])
    cls.__module__ = __name__
    return cls


def _type_of(schema: Dict[str, Any], name: str, root: Dict[str, Any]) -> Any:
    if "$ref" in schema:
        return _type_of(_resolve(schema["$ref"], root), name, root)
    if "const" in schema:
        return Literal[schema["const"]]  # type: ignore[valid-type]
    if "enum" in schema:
        values = tuple(schema["enum"])
        non_null = tuple(v for v in values if v is not None)
        hint = Literal[non_null] if non_null else type(None)  # type: ignore[valid-type]
        return Optional[hint] if None in values else hint
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [_type_of(s, name, root) for s in schema[key]]
            return Union[tuple(options)] if len(options) > 1 else options[0]
    kind = schema.get("type")
    if isinstance(kind, list):
        options = [_type_of({**schema, "type": k}, name, root) for k in kind]
        return Union[tuple(options)] if len(options) > 1 else options[0]
    if kind == "null":
        return type(None)
    if kind in _PRIMITIVES:
        return _PRIMITIVES[kind]
    if kind == "array":
        return List[_type_of(schema.get("items", {}), name + "Item", root)]  # type: ignore[misc]
    if kind == "object":
        if schema.get("properties"):
            return _object_type(schema, name, root)
        return Dict[str, Any]
    return Any


def _resolve(ref: str, root: Dict[str, Any]) -> Dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref is supported, got {ref}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _pascal(prop: str) -> str:
    return prop[:1].upper() + prop[1:]


def load_schema(file_name: str) -> Dict[str, Any]:
    return json.loads((SCHEMAS_DIR / file_name).read_text(encoding="utf-8"))


ExportCompletion = dataclass_from_schema(load_schema("export-completion.schema.json"), "ExportCompletion")
ExportProgress = dataclass_from_schema(load_schema("export-progress.schema.json"), "ExportProgress")
