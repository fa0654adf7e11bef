"""The use-case catalog: one JSON file per task under ``use_cases/<family>/<task>.json``.

This is the single source of truth. The function validates and prompts from it; the CDK stack reads the same
files to create one API resource per task. Adding a task means adding a file here (and its tests).

A file holds:
- ``family``, ``task``, ``summary``;
- ``input``: the request's JSON Schema (the draft-04 subset of ``genai_core.schema``);
- ``callerSchemas``: input properties whose values are themselves JSON Schemas of objects sent by the caller;
- ``output``: either ``{"text": "<field>"}`` (the model's text becomes ``output[field]``) or
  ``{"tool": {"name", "description"}, "schema": <JSON Schema>}`` for structured output through a forced tool call.
  In that schema, ``{"$input": "<property>"}`` stands for the value of that request property;
- ``prompt``: ``system`` lines (``${name}`` placeholders; ``{"if": name, "text": ...}`` lines appear only when the
  request has ``name``), ``defaults`` and ``vocabulary`` for placeholders, ``data`` (request properties passed to
  the model as delimited data blocks), ``instruction`` (the task, after the data), or ``conversation`` (a request
  property holding the chat messages);
- ``inference``: ``maxTokens`` and ``temperature``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CATALOG_DIR = Path(__file__).resolve().parent.parent / "use_cases"
FAMILIES = ("customer-experience", "productivity", "process-optimization")


@dataclass(frozen=True)
class UseCase:
    family: str
    task: str
    summary: str
    input_schema: Mapping[str, Any]
    output: Mapping[str, Any]
    prompt: Mapping[str, Any]
    inference: Mapping[str, Any]
    caller_schemas: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.family}/{self.task}"

    @property
    def path(self) -> str:
        return f"/{self.family}/{self.task}"

    @property
    def structured(self) -> bool:
        return "schema" in self.output

    @property
    def tool_name(self) -> str:
        return str(self.output["tool"]["name"])

    def output_schema(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The output schema with ``{"$input": name}`` replaced by the request's values."""
        resolved = _resolve(self.output["schema"], request)
        if not isinstance(resolved, dict):
            raise TypeError(f"{self.id}: the output schema must resolve to an object")
        return resolved


def _resolve(node: Any, request: Mapping[str, Any]) -> Any:
    if isinstance(node, dict):
        if set(node) == {"$input"}:
            return request[node["$input"]]
        return {key: _resolve(value, request) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, request) for item in node]
    return node


@dataclass(frozen=True)
class Catalog:
    use_cases: Mapping[str, UseCase]

    def __iter__(self) -> Iterator[UseCase]:
        return iter(self.use_cases.values())

    def __len__(self) -> int:
        return len(self.use_cases)

    def get(self, use_case_id: str) -> UseCase | None:
        return self.use_cases.get(use_case_id)

    def by_family(self) -> dict[str, list[UseCase]]:
        families: dict[str, list[UseCase]] = {family: [] for family in FAMILIES}
        for use_case in self:
            families[use_case.family].append(use_case)
        return families


def _load_file(path: Path) -> UseCase:
    data = json.loads(path.read_text(encoding="utf-8"))
    family, task = data["family"], data["task"]
    if family not in FAMILIES:
        raise ValueError(f"{path}: unknown family {family!r} (one of {', '.join(FAMILIES)})")
    if path.parent.name != family or path.stem != task:
        raise ValueError(f"{path}: must live at use_cases/{family}/{task}.json")
    return UseCase(
        family=family,
        task=task,
        summary=data["summary"],
        input_schema=data["input"],
        output=data["output"],
        prompt=data["prompt"],
        inference=data["inference"],
        caller_schemas=tuple(data.get("callerSchemas", ())),
    )


def load_catalog(directory: Path = CATALOG_DIR) -> Catalog:
    use_cases = [_load_file(path) for path in sorted(directory.glob("*/*.json"))]
    return Catalog({use_case.id: use_case for use_case in use_cases})
