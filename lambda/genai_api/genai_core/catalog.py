"""The use-case catalog: one JSON file per task under ``use_cases/<family>/<task>.json``.

This is the single source of truth. The function validates and prompts from it; the CDK stack reads the same
files to create one API resource per task. Adding a task means adding a file here (and its tests).

A file holds:
- ``family``, ``task``, ``summary``;
- ``input``: the request's JSON Schema (the draft-04 subset of ``genai_core.schema``);
- ``callerSchemas``: input properties whose values are themselves JSON Schemas of objects sent by the caller;
- ``checks`` and ``outputChecks``: rules across fields that JSON Schema cannot say, on the request and on the
  model's answer (``rules_error``): ``{"distinct": "documents[].id"}`` (those values are distinct) and
  ``{"conform": "examples", "to": "schema"}`` (each item of ``examples`` is valid against the caller's schema in
  ``schema``);
- ``output``: either ``{"text": "<field>"}`` (the model's text becomes ``output[field]``) or
  ``{"tool": {"name", "description"}, "schema": <JSON Schema>}`` for structured output through a forced tool call.
  The caller's constraints go into that schema through directives, resolved per request (``DIRECTIVES``):
  ``{"$input": "name"}`` is the request's ``name``, ``{"$input": "name[].field"}`` the list of ``field`` of each
  item of ``name``, ``{"$count": "name"}`` and ``{"$lastIndex": "name"}`` its length and last index, and
  ``{"$if": "name", "then": ..., "else": ...}`` a choice on whether the request has ``name``, and, for a task that
  retrieves, ``{"$retrieved": "id"}`` the ids of the passages retrieved for this request. The model is steered by the
  resolved schema (enums of the caller's categories, ``minItems`` = ``count``...) and its answer is checked against
  the same schema. A directive's reference may be a list (``{"$input": ["documents[].id", "files[].name"]}``: the
  values of each, one list; ``{"$count": ["documents", "files"]}``: their lengths added), in which an input the
  request lacks counts as empty; in a directive, ``files`` is the attached files as the model sees them (``name``:
  "Document 1"...);
- ``streaming``: ``true`` for a text task that is also served as Server-Sent Events at ``/<family>/<task>/stream``;
- ``files``: the task takes files (``genai_core.file_contract``): ``{"replaces": [<inputs>]}``. The loader adds the
  ``files`` input (its schema from ``file_contract``), takes the replaced inputs out of ``required`` and adds the
  rule that the request has one of them, its files, or both (``{"atLeastOne": [...]}``); the files reach the model
  as document and image blocks beside the fenced text;
- ``memory``: ``true`` for a conversation task whose history the server may remember: its input has the optional
  ``conversationId`` (a string of 1 to 64 characters; the function checks its letters, digits, ``-`` and ``_``),
  and a request that sends one carries only its new messages (``genai_core/conversations.py``);
- ``prompt``: ``system`` lines (``${name}`` placeholders; a line ``{"if": names, "unless": names, "text": ...}``
  appears only when the request has every input of ``if`` and none of ``unless``, each a name or a list),
  ``defaults`` and ``vocabulary`` for placeholders, and either ``conversation`` (a request property holding the chat
  messages) or the request properties passed to the model in fenced blocks (``genai_core.prompts``): ``data``,
  material to work on that the model never obeys (a document, records, a profile), and ``request``, the caller's
  request that the model carries out within the task (``code``'s instruction, ``draft``'s brief), then
  ``instruction``, the task itself, after the blocks (a text, or lines like ``system``'s);
- ``inference``: ``maxTokens`` and ``temperature``;
- ``retrieval``: the task searches the deployment's knowledge base before it calls the model (``Retrieval`` below):
  ``query``, the input whose text is searched for; ``followUp``, an input of earlier turns (``{"role", "content"}``)
  whose last user turns are searched for too, so that a follow-up question finds what the conversation is about;
  ``passages``, the name of the data block the retrieved passages go in (listed in ``prompt.data``: each passage is
  ``{"id", "source", "text"}``, its id the one the model cites); ``defaultResults``, how many passages are retrieved,
  and ``results``, the input through which the caller may ask for another number; ``filter``, the input holding the
  caller's metadata filter (``genai_core.filters``); ``citations``, the output field of the passage ids the model
  cites, which the answer returns as ``{"id", "source", "passage"}`` (its S3 URI and text, from the knowledge base,
  never from the model); ``answerable``, an output field the core sets to whether the answer cites a passage; and
  ``nothingRetrieved``, the output returned without calling the model when the search finds nothing, by the primary
  language subtag of the request's ``language`` (``"pt"``, ``"en"``...) with a ``"default"``. A task that retrieves
  is not served where the deployment has no knowledge base (``Catalog.served``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from genai_core import schema
from genai_core.file_contract import FILES_INPUT, files_schema

CATALOG_DIR = Path(__file__).resolve().parent.parent / "use_cases"
FAMILIES = ("customer-experience", "productivity", "process-optimization")


DIRECTIVES = ("$input", "$count", "$lastIndex", "$if", "$retrieved")
MEMORY_PROPERTY = "conversationId"  # the input that names the conversation of a task that remembers ("memory")
# What a passage of the knowledge base is to the prompt and to a directive (``{"$retrieved": "id"}``).
PASSAGE_FIELDS = ("id", "source", "text")
# A citation as the answer returns it: the passage's id, its source document and the passage itself.
CITATION_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "required": ["id", "source", "passage"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "description": "The id the passage had in this answer's prompt (p1, p2...)."},
        "source": {"type": "string", "description": "The document the passage comes from: its S3 URI."},
        "passage": {"type": "string", "description": "The passage's text, as the knowledge base returned it."},
    },
}


FOLLOW_UP_TURNS = 2  # the last user turns of a follow-up input that are searched for with the query


class Retrieval(NamedTuple):
    """How a task searches the knowledge base and cites what it found (the ``retrieval`` of its file)."""

    query: str  # the input whose text is searched for
    passages: str  # the data block the retrieved passages go in
    default_results: int  # passages retrieved unless the caller asks for another number
    nothing_retrieved: Mapping[str, Mapping[str, Any]]  # the output when nothing is found, by primary language
    results: str | None = None  # the input through which the caller may ask for another number of passages
    filter: str | None = None  # the input holding the caller's metadata filter
    follow_up: str | None = None  # the input of earlier turns, whose user turns join the query
    citations: str | None = None  # the output field of cited passage ids
    answerable: str | None = None  # the output field set to whether the answer cites a passage

    @property
    def caller_inputs(self) -> tuple[str, ...]:
        """Inputs that only steer the search (how many passages, which documents): they never reach the model."""
        return tuple(name for name in (self.results, self.filter) if name)

    def query_text(self, request: Mapping[str, Any]) -> str:
        """What is searched for: the last ``FOLLOW_UP_TURNS`` user turns of the follow-up input (oldest first), then
        the query itself, one per line."""
        turns = request.get(self.follow_up, ()) if self.follow_up else ()
        users = [str(turn["content"]) for turn in turns if turn.get("role") == "user"]
        return "\n".join([*users[-FOLLOW_UP_TURNS:], str(request[self.query])])

    def number_of_results(self, request: Mapping[str, Any]) -> int:
        return int(request.get(self.results, self.default_results)) if self.results else self.default_results

    def nothing_found(self, language: str | None) -> dict[str, Any]:
        """The output when the search finds nothing: in ``language``'s primary subtag when the file has one."""
        chosen = self.nothing_retrieved.get(language or "", self.nothing_retrieved["default"])
        return copy.deepcopy(dict(chosen))  # the catalog's own stays as loaded

    def cite(self, answer: Mapping[str, Any], citations: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
        """The model's answer with each cited passage id made the citation ``citations`` holds for it (its id,
        source and text), and ``answerable`` set to whether it cites any."""
        output = dict(answer)
        if self.citations is not None:
            output[self.citations] = [dict(citations[str(cited)]) for cited in answer.get(self.citations, ())]
            if self.answerable is not None:
                output[self.answerable] = bool(output[self.citations])
        return output

    def public_schema(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """What the caller gets, from the model's schema: citations as ``CITATION_SCHEMA`` objects, and the
        ``answerable`` flag the core sets."""
        properties = dict(schema.get("properties", {}))
        required = list(schema.get("required", []))
        if self.citations is not None:
            cited = dict(properties[self.citations])
            cited["items"] = dict(CITATION_SCHEMA)
            properties[self.citations] = cited
        if self.answerable is not None:
            properties[self.answerable] = {
                "type": "boolean",
                "description": "True when the answer cites at least one retrieved passage; false when the knowledge "
                "base holds nothing that answers the question (the answer then says so, with no citation).",
            }
            required.append(self.answerable)
        return {**schema, "required": required, "properties": properties}


class FileInput(NamedTuple):
    """A task that takes files (the ``files`` of its use-case file): ``replaces`` are the text inputs that files may
    stand in for, so that a request has one of them, its files, or both. (A NamedTuple: defined at init, where a
    frozen dataclass costs half a millisecond more.)"""

    replaces: tuple[str, ...]

    @property
    def rule(self) -> dict[str, list[str]]:
        """The cross-field rule the loader adds to the task's checks."""
        return {"atLeastOne": [*self.replaces, FILES_INPUT]}


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
    checks: tuple[Mapping[str, str], ...] = field(default=())
    output_checks: tuple[Mapping[str, str], ...] = field(default=())
    streaming: bool = False  # also served as a stream of text deltas at ``<path>/stream``
    file_input: FileInput | None = None  # takes files: the ``files`` input, document and image blocks
    memory: bool = False  # may remember its conversation server-side (a request with ``conversationId``)
    retrieval: Retrieval | None = None  # searches the knowledge base before the model is called
    # The input schema compiled once, when the catalog is loaded (at container start).
    check_input: schema.Check = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "check_input", schema.compile_schema(self.input_schema))

    @property
    def id(self) -> str:
        return f"{self.family}/{self.task}"

    @property
    def path(self) -> str:
        return f"/{self.family}/{self.task}"

    @property
    def stream_path(self) -> str | None:
        return f"{self.path}/stream" if self.streaming else None

    @property
    def structured(self) -> bool:
        return "schema" in self.output

    @property
    def tool_name(self) -> str:
        return str(self.output["tool"]["name"])

    @property
    def data_blocks(self) -> tuple[str, ...]:
        """Inputs shown to the model as data: material to work on, never instructions to follow."""
        return tuple(self.prompt.get("data", ()))

    @property
    def request_blocks(self) -> tuple[str, ...]:
        """Inputs that hold the caller's request, which the model carries out within the task and its rules."""
        return tuple(self.prompt.get("request", ()))

    @property
    def fenced_inputs(self) -> tuple[str, ...]:
        """Every input the user turn carries in a fenced block, in order: the data, then the request."""
        return self.data_blocks + self.request_blocks

    def output_schema(
        self, request: Mapping[str, Any], retrieved: Sequence[Mapping[str, Any]] = (), *, attached: Sequence[str] = ()
    ) -> dict[str, Any]:
        """The output schema with its directives resolved against the request (and the passages retrieved for it);
        ``attached``: the names the model sees its files by ("Document 1"...), which a directive reads as
        ``files[].name``."""
        if attached:
            request = {**request, FILES_INPUT: [{"name": name} for name in attached]}
        resolved = _resolve(self.output["schema"], request, retrieved)
        if not isinstance(resolved, dict):
            raise TypeError(f"{self.id}: the output schema must resolve to an object")
        return resolved

    def input_rules_error(self, request: Mapping[str, Any]) -> str | None:
        """The first of the use case's ``checks`` that a request (already valid against its schema) breaks."""
        return rules_error(self.checks, request, request)

    def output_rules_error(self, answer: Mapping[str, Any], request: Mapping[str, Any]) -> str | None:
        """The first of the use case's ``outputChecks`` that a model's answer (valid against its schema) breaks."""
        return rules_error(self.output_checks, answer, request)

    def public(self) -> dict[str, Any]:
        """What a caller may discover about this use case (``GET /use-cases``): no prompt, no inference settings."""
        return {
            "family": self.family,
            "task": self.task,
            "path": self.path,
            "method": "POST",
            "summary": self.summary,
            "input": self.input_schema,
            **({"streamPath": self.stream_path} if self.streaming else {}),
            **({"memory": True} if self.memory else {}),
        }


def directive_of(node: Any) -> str | None:
    """The directive a schema node is (``$input``...), or None."""
    if isinstance(node, dict):
        names: list[str] = [key for key in node if key in DIRECTIVES]
        if len(names) == 1:
            return names[0]
    return None


def _lookup(request: Mapping[str, Any], reference: str | list[str]) -> Any:
    """The value a directive's reference names; a list of references gives one list, absent inputs left out."""
    if isinstance(reference, list):
        return [value for one in reference if one.partition("[].")[0] in request for value in _lookup(request, one)]
    name, _, rest = reference.partition("[].")
    value = request[name]
    return [item[rest] for item in value] if rest else value


def rules_error(rules: Sequence[Mapping[str, str]], data: Mapping[str, Any], request: Mapping[str, Any]) -> str | None:
    """Check ``data`` (a request, or a model's answer to it) against cross-field rules; the first problem, or None.

    ``{"distinct": "name[].field"}``: the ``field`` of the items of ``data[name]`` are distinct.
    ``{"conform": "name", "to": "schema"}``: each item of ``data[name]`` is valid against the JSON Schema in the
    request's ``schema``.
    ``{"atLeastOne": [names]}``: ``data`` has at least one of them (a task that takes files: its text, files, both).
    """
    for rule in rules:
        if "atLeastOne" in rule:
            names: list[str] = list(rule["atLeastOne"])
            if not any(name in data for name in names):
                return f"{' or '.join(names)} is required (either, or both)"
        elif "distinct" in rule:
            if not _present(data, rule["distinct"]):
                continue
            name, _, field_name = rule["distinct"].partition("[].")
            seen: set[str] = set()
            for index, value in enumerate(_lookup(data, rule["distinct"])):
                key = json.dumps(value, sort_keys=True)
                if key in seen:
                    shown = json.dumps(value, ensure_ascii=False)
                    return f"{name}[{index}].{field_name} repeats {shown}: each {field_name} must be distinct"
                seen.add(key)
        elif "conform" in rule:
            name, target = rule["conform"], rule["to"]
            if name in data and target in request:
                check = schema.compile_schema(request[target])
                for index, item in enumerate(data[name]):
                    error = check(item, f"{name}[{index}]")
                    if error:
                        return f"{error} (each item of {name} must conform to {target})"
        else:
            raise ValueError(f"unknown rule {rule!r}")
    return None


def _present(request: Mapping[str, Any], reference: str) -> bool:
    return reference.partition("[].")[0] in request


def _resolve(node: Any, request: Mapping[str, Any], retrieved: Sequence[Mapping[str, Any]] = ()) -> Any:
    directive = directive_of(node)
    if directive == "$retrieved":
        return [passage[node["$retrieved"]] for passage in retrieved]
    if directive == "$input":
        return _lookup(request, node["$input"])
    if directive == "$count":
        counted = node["$count"]
        names = counted if isinstance(counted, list) else [counted]
        return sum(len(request[name]) for name in names if name in request or not isinstance(counted, list))
    if directive == "$lastIndex":
        return len(request[node["$lastIndex"]]) - 1
    if directive == "$if":
        return _resolve(node["then"] if node["$if"] in request else node["else"], request, retrieved)
    if isinstance(node, dict):
        return {key: _resolve(value, request, retrieved) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, request, retrieved) for item in node]
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

    def describe(self) -> dict[str, Any]:
        """The catalog's public part, for discovery: families, then each task's route, summary and input schema."""
        return {
            "families": [
                {"family": family, "useCases": [use_case.public() for use_case in use_cases]}
                for family, use_cases in self.by_family().items()
            ]
        }

    def served(self, *, knowledge_base: bool) -> Catalog:
        """The use cases a deployment serves: a task that retrieves only where there is a knowledge base."""
        return Catalog({key: u for key, u in self.use_cases.items() if knowledge_base or u.retrieval is None})

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
    if data.get("streaming") and "text" not in data["output"]:
        raise ValueError(f"{path}: only a text task can stream (its output is text deltas)")
    file_input = _file_input(path, data) if FILES_INPUT in data else None
    input_schema = _with_files(data["input"], file_input) if file_input is not None else data["input"]
    properties = input_schema.get("properties", {})
    retrieval = _retrieval(path, data, properties) if "retrieval" in data else None
    _check_prompt(path, data["prompt"], properties, retrieval)
    _check_memory(path, data)
    return UseCase(
        family=family,
        task=task,
        summary=data["summary"],
        input_schema=input_schema,
        output=data["output"],
        prompt=data["prompt"],
        inference=data["inference"],
        caller_schemas=tuple(data.get("callerSchemas", ())),
        checks=(*data.get("checks", ()), *((file_input.rule,) if file_input is not None else ())),
        output_checks=tuple(data.get("outputChecks", ())),
        streaming=bool(data.get("streaming", False)),
        file_input=file_input,
        retrieval=retrieval,
        memory=bool(data.get("memory", False)),
    )


def _check_memory(path: Path, data: Mapping[str, Any]) -> None:
    """A task that remembers is a text conversation, with the optional ``conversationId`` its requests name the
    conversation by; a task that does not remember has no such input (it would be accepted and ignored)."""
    declared = MEMORY_PROPERTY in data["input"].get("properties", {})
    if not data.get("memory"):
        if declared:
            raise ValueError(f'{path}: {MEMORY_PROPERTY} is an input of a task with "memory": true only')
        return
    if "conversation" not in data["prompt"] or "text" not in data["output"]:
        raise ValueError(f'{path}: only a text conversation task can remember ("memory": true)')
    spec = data["input"].get("properties", {}).get(MEMORY_PROPERTY)
    if spec is None or spec.get("type") != "string" or MEMORY_PROPERTY in data["input"].get("required", ()):
        raise ValueError(f"{path}: a task that remembers has an optional string input {MEMORY_PROPERTY}")


def _retrieval(path: Path, data: Mapping[str, Any], properties: Mapping[str, Any]) -> Retrieval:
    """The ``retrieval`` of a use-case file, checked against its inputs, its prompt and its output."""
    spec = data["retrieval"]
    known = {"query", "passages", "defaultResults", "nothingRetrieved", "results", "filter", "followUp"}
    known |= {"citations", "answerable"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ValueError(f"{path}: retrieval takes {', '.join(sorted(known))}; unknown: {', '.join(unknown)}")
    retrieval = Retrieval(
        query=spec["query"],
        passages=spec["passages"],
        default_results=spec["defaultResults"],
        nothing_retrieved=spec["nothingRetrieved"],
        results=spec.get("results"),
        filter=spec.get("filter"),
        follow_up=spec.get("followUp"),
        citations=spec.get("citations"),
        answerable=spec.get("answerable"),
    )
    kinds = {"query": "string", "results": "integer", "filter": "object", "follow_up": "array"}
    for field_name, kind in kinds.items():
        name = getattr(retrieval, field_name)
        if name is not None and properties.get(name, {}).get("type") != kind:
            raise ValueError(f"{path}: retrieval's {field_name} must name an input property of type {kind}")
    if retrieval.passages in properties or retrieval.passages not in data["prompt"].get("data", ()):
        raise ValueError(f"{path}: retrieval's passages names a data block of the prompt that is not an input")
    if not isinstance(retrieval.default_results, int) or not 1 <= retrieval.default_results <= 100:
        raise ValueError(f"{path}: retrieval's defaultResults must be an integer from 1 to 100 (Retrieve's range)")
    output = data["output"].get("schema", {}).get("properties", {})
    if retrieval.citations is not None:
        cited = output.get(retrieval.citations, {})
        if cited.get("type") != "array" or cited.get("items", {}).get("enum") != {"$retrieved": "id"}:
            raise ValueError(
                f"{path}: retrieval's citations must name an output array whose items' enum is "
                '{"$retrieved": "id"}: the model may cite only the passages retrieved for the request'
            )
    if retrieval.answerable is not None and (retrieval.citations is None or retrieval.answerable in output):
        raise ValueError(f"{path}: retrieval's answerable is set by the core from citations, not by the model")
    if "default" not in retrieval.nothing_retrieved:
        raise ValueError(f"{path}: retrieval's nothingRetrieved needs a default output")
    return retrieval


def _file_input(path: Path, data: Mapping[str, Any]) -> FileInput:
    """The ``files`` of a use-case file: what the files may stand in for, checked against its inputs and prompt."""
    spec, properties, prompt = data[FILES_INPUT], data["input"].get("properties", {}), data["prompt"]
    if not isinstance(spec, dict) or set(spec) != {"replaces"}:
        raise ValueError(f'{path}: files is {{"replaces": [<the inputs files may stand in for>]}}')
    replaces = tuple(spec["replaces"])
    fenced = [*prompt.get("data", ()), *prompt.get("request", ())]
    if not replaces or any(name not in properties or name not in fenced for name in replaces):
        raise ValueError(f"{path}: files replaces inputs that the prompt fences (data or request blocks)")
    if FILES_INPUT in properties or "conversation" in prompt:
        raise ValueError(f"{path}: files is an input the loader adds, to a task with an instruction (not a chat)")
    return FileInput(replaces)


def _with_files(input_schema: Mapping[str, Any], file_input: FileInput) -> dict[str, Any]:
    """The input schema with the ``files`` property (``file_contract.files_schema``) and the replaced inputs made
    optional (the rule that one of them or files is there is the task's ``atLeastOne`` check)."""
    replaced = " or ".join(file_input.replaces)
    files = files_schema()
    files["description"] += f" Send {replaced}, files, or both."
    required = [name for name in input_schema.get("required", []) if name not in file_input.replaces]
    schema_with_files = {
        **{key: value for key, value in input_schema.items() if key != "required"},
        "properties": {**input_schema.get("properties", {}), FILES_INPUT: files},
    }
    # draft-04 (API Gateway's) wants at least one name in "required", or none at all.
    return {**schema_with_files, "required": required} if required else schema_with_files


def condition_holds(line: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    """Whether a conditional prompt line applies: the request has every input of its ``if`` and none of its
    ``unless`` (each a name or a list of names)."""
    present, absent = line.get("if", ()), line.get("unless", ())
    present = [present] if isinstance(present, str) else present
    absent = [absent] if isinstance(absent, str) else absent
    return all(name in request for name in present) and not any(name in request for name in absent)


def _check_lines(path: Path, where: str, lines: Any, properties: Mapping[str, Any]) -> None:
    """Prompt lines: text, or ``{"if", "unless", "text"}`` whose conditions name inputs."""
    for line in [lines] if isinstance(lines, str) else lines:
        if isinstance(line, str):
            continue
        names = [line.get(key, ()) for key in ("if", "unless")]
        names = [name for group in names for name in ([group] if isinstance(group, str) else group)]
        if not set(line) <= {"if", "unless", "text"} or "text" not in line or not names:
            raise ValueError(f'{path}: a conditional {where} line is {{"if": ..., "unless": ..., "text": ...}}')
        unknown = sorted(set(names) - set(properties))
        if unknown:
            raise ValueError(f"{path}: {where} lines are conditional on inputs {unknown} that the task does not have")


def _check_prompt(
    path: Path, prompt: Mapping[str, Any], properties: Mapping[str, Any], retrieval: Retrieval | None = None
) -> None:
    """A prompt is a conversation, or fenced inputs and an instruction: each input in one kind of block only (the
    retrieved passages are a data block of their own)."""
    _check_lines(path, "system", prompt.get("system", ()), properties)
    _check_lines(path, "instruction", prompt.get("instruction", ()), properties)
    data, request = list(prompt.get("data", ())), list(prompt.get("request", ()))
    if "conversation" in prompt:
        if data or request or "instruction" in prompt:
            raise ValueError(f"{path}: a conversation's messages are its turns: no data, request or instruction")
        return
    if "instruction" not in prompt:
        raise ValueError(f"{path}: a prompt without a conversation needs an instruction")
    passages = {retrieval.passages} if retrieval is not None else set()
    unknown = [
        name for name in data + request if (name not in properties and name not in passages) or name == FILES_INPUT
    ]
    if unknown:
        raise ValueError(f"{path}: prompt blocks {unknown} are not input properties")
    if len(set(data + request)) != len(data + request):
        raise ValueError(f"{path}: an input is in one block, of one kind (data or request)")


def load_catalog(directory: Path = CATALOG_DIR) -> Catalog:
    use_cases = [_load_file(path) for path in sorted(directory.glob("*/*.json"))]
    return Catalog({use_case.id: use_case for use_case in use_cases})
