"""The use-case catalog is the single source of truth: every file in it must be internally consistent, and the
function and the stack read it with the same loader."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import pytest

from genai_core import languages, schema
from genai_core.catalog import (
    CATALOG_DIR,
    DIRECTIVES,
    FAMILIES,
    MEMORY_PROPERTY,
    directive_of,
    load_catalog,
    rules_error,
)
from genai_core.file_contract import FILES_INPUT
from genai_core.prompts import render
from tests.support import ROOT
from tools.fake_bedrock import instance_from_schema

CATALOG = load_catalog()
USE_CASES = sorted(CATALOG, key=lambda use_case: use_case.id)
IDS = [use_case.id for use_case in USE_CASES]


def placeholders(text: str) -> set[str]:
    return {match[1] or match[2] for match in string.Template.pattern.findall(text) if match[1] or match[2]}


def test_the_stack_reads_the_use_cases_with_the_functions_own_loader():
    import app
    import stacks.config

    assert app.load_catalog is load_catalog  # what build_app creates one API resource per use case from
    assert stacks.config.FAMILIES is FAMILIES
    for path in (ROOT / "stacks").rglob("*.py"):  # and no second reader of the use-case files
        text = path.read_text(encoding="utf-8")
        assert "use_cases" not in text and "*/*.json" not in text, path


def test_every_family_has_at_least_one_use_case():
    assert {use_case.family for use_case in USE_CASES} == set(FAMILIES)


@pytest.mark.parametrize("use_case", USE_CASES, ids=IDS)
def test_the_input_schema_is_an_object_schema_in_the_supported_subset(use_case):
    assert schema.object_schema_error(dict(use_case.input_schema), "input") is None
    assert use_case.input_schema.get("additionalProperties") is False  # unknown fields are refused
    for name in use_case.input_schema.get("required", []):
        assert name in use_case.input_schema["properties"]


@pytest.mark.parametrize("use_case", USE_CASES, ids=IDS)
def test_every_string_and_list_in_the_input_is_bounded(use_case):
    def walk(node: dict[str, Any], path: str) -> None:
        kind = node.get("type")
        if kind == "string" and "enum" not in node:
            assert "maxLength" in node, f"{path} has no maxLength"
        if kind == "array":
            assert "maxItems" in node, f"{path} has no maxItems"
            walk(node["items"], f"{path}[]")
        for name, sub in node.get("properties", {}).items():
            walk(sub, f"{path}.{name}")

    walk(dict(use_case.input_schema), use_case.id)


@pytest.mark.parametrize("use_case", USE_CASES, ids=IDS)
def test_the_output_is_a_text_field_or_a_forced_tool_with_a_schema(use_case):
    if use_case.structured:
        tool = use_case.output["tool"]
        assert re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_]{0,63}", tool["name"])
        assert tool["description"]
        assert tool["name"] in " ".join(line for line in use_case.prompt["system"] if isinstance(line, str))
    else:
        assert set(use_case.output) == {"text"}


@pytest.mark.parametrize("use_case", USE_CASES, ids=IDS)
def test_the_prompt_refers_only_to_known_inputs(use_case):
    spec = use_case.prompt
    properties = set(use_case.input_schema["properties"])
    known = properties | set(spec.get("defaults", {}))
    for line in spec["system"]:
        text = line["text"] if isinstance(line, dict) else line
        if isinstance(line, dict):
            assert line["if"] in properties
        assert placeholders(text) <= known, text
    passages = {use_case.retrieval.passages} if use_case.retrieval else set()
    for name in spec.get("data", []):
        assert name in properties | passages  # an input, or the passages a task that retrieves searched for
    assert ("conversation" in spec) != ("instruction" in spec)  # a chat, or data blocks and an instruction
    assert set(spec.get("vocabulary", {})) <= properties


@pytest.mark.parametrize("use_case", USE_CASES, ids=IDS)
def test_the_inference_defaults_are_sane(use_case):
    assert 1 <= use_case.inference["maxTokens"] <= 8192
    assert 0 <= use_case.inference["temperature"] <= 1


@pytest.mark.parametrize("use_case", USE_CASES, ids=IDS)
@pytest.mark.parametrize("language", [None, "pt-BR", "English"])
def test_a_minimal_valid_request_renders_a_prompt(use_case, language):
    request = instance_from_schema(dict(use_case.input_schema))
    if language and "language" in use_case.input_schema["properties"]:
        request["language"] = language
    if "conversation" in use_case.prompt:
        request[use_case.prompt["conversation"]] = [{"role": "user", "content": "Olá"}]
    if use_case.caller_schemas:
        for name in use_case.caller_schemas:
            request[name] = {"type": "object", "properties": {"id": {"type": "string"}}}
    assert schema.first_error(request, use_case.input_schema) is None

    prompt = render(use_case, request)

    assert prompt.system and prompt.messages
    assert "$" not in prompt.system  # every placeholder was filled
    if language and "language" in use_case.input_schema["properties"]:
        assert f"in this language: {languages.parse(language)}." in prompt.system


def directives(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if any(key in node for key in DIRECTIVES) else []
        return found + [d for value in node.values() for d in directives(value)]
    if isinstance(node, list):
        return [d for item in node for d in directives(item)]
    return []


@pytest.mark.parametrize(
    "use_case", [u for u in USE_CASES if u.structured], ids=[u.id for u in USE_CASES if u.structured]
)
def test_output_directives_refer_to_the_inputs_they_need(use_case):
    properties = use_case.input_schema["properties"]
    required = set(use_case.input_schema.get("required", []))
    for directive in directives(use_case.output["schema"]):
        if "$if" in directive:
            assert directive["$if"] in properties and set(directive) == {"$if", "then", "else"}
            continue
        if "$retrieved" in directive:  # the passages of a task that retrieves: one of their fields
            assert use_case.retrieval is not None and directive == {"$retrieved": "id"}, directive
            continue
        (kind,) = [key for key in directive if key.startswith("$")]
        references = directive[kind] if isinstance(directive[kind], list) else [directive[kind]]
        names = [reference.partition("[].")[0] for reference in references]
        for reference, name in zip(references, names, strict=True):
            field_name = reference.partition("[].")[2]
            assert name in properties, directive
            if kind in ("$count", "$lastIndex") or field_name:
                assert properties[name]["type"] == "array", directive
            if field_name and name == FILES_INPUT:  # the attached files as the model sees them
                assert field_name == "name", directive
            elif field_name:
                assert field_name in properties[name]["items"]["required"], directive
        if isinstance(directive[kind], list):
            # A list may name optional inputs (an absent one counts as empty), but never all of them absent: they
            # are the inputs of which the task's rules require one.
            assert any(name in required for name in names) or any(
                set(rule.get("atLeastOne", ())) <= set(names) for rule in use_case.checks
            ), directive
            continue
        # Unguarded, an optional input could be absent: only required ones, or ones under a "$if" on them.
        (name,) = names
        guarded = any(
            d.get("$if") == name and directive in directives(d["then"])
            for d in directives(use_case.output["schema"])
            if "$if" in d
        )
        assert name in required or guarded, f"{directive} needs {name}, which is optional"


@pytest.mark.parametrize("use_case", USE_CASES, ids=IDS)
def test_free_text_never_reaches_the_system_prompt(use_case):
    """Placeholders in system lines may name enums (through the vocabulary), integers or defaults; any other
    caller text is data, passed in a delimited block."""
    properties = use_case.input_schema["properties"]
    for line in use_case.prompt["system"]:
        text = line["text"] if isinstance(line, dict) else line
        for name in placeholders(text):
            if name in properties:
                rules = properties[name]
                assert "enum" in rules or rules["type"] == "integer", f"{use_case.id}: ${{{name}}} is free text"


@pytest.mark.parametrize("use_case", USE_CASES, ids=IDS)
def test_every_prompt_sets_the_answer_language(use_case):
    lines = " ".join(line["text"] if isinstance(line, dict) else line for line in use_case.prompt["system"])
    # A "language" input gets the renderer's rule; a task without one says which language its text follows.
    assert "language" in use_case.input_schema["properties"] or re.search(
        r"\b(writ|keep)[^.]*\blanguage\b", lines, re.IGNORECASE
    )


@pytest.mark.parametrize("use_case", USE_CASES, ids=IDS)
def test_every_task_has_a_valid_example_request(use_case):
    path = ROOT / "examples" / f"{use_case.id}.json"
    request = json.loads(path.read_text(encoding="utf-8"))
    assert use_case.check_input(request, "") is None
    for name in use_case.caller_schemas:
        assert schema.object_schema_error(request[name], name) is None
    assert use_case.input_rules_error(request) is None
    # conversationId is left out: the examples are stateless requests, sent as they are by make smoke (which makes a
    # remembered turn of its own, and erases it).
    optional = set(use_case.input_schema["properties"]) - set(use_case.input_schema.get("required", []))
    optional -= {"language", MEMORY_PROPERTY}
    assert len(set(request) & optional) >= min(1, len(optional)), "an example shows at least one option"


@pytest.mark.parametrize(
    ("rules", "data", "message"),
    [
        (
            [{"distinct": "docs[].id"}],
            {"docs": [{"id": "a"}, {"id": "b"}, {"id": "a"}]},
            'docs[2].id repeats "a": each id must be distinct',
        ),
        ([{"distinct": "docs[].id"}], {"docs": [{"id": "a"}, {"id": "b"}]}, None),
        ([{"distinct": "docs[].id"}], {}, None),
        (
            [{"conform": "rows", "to": "schema"}],
            {"schema": {"type": "object", "required": ["a"]}, "rows": [{"a": 1}, {}]},
            "rows[1].a is required (each item of rows must conform to schema)",
        ),
    ],
)
def test_cross_field_rules(rules, data, message):
    assert rules_error(rules, data, data) == message


def test_an_unknown_rule_is_a_catalog_error():
    with pytest.raises(ValueError, match="unknown rule"):
        rules_error([{"unique": "x"}], {"x": []}, {})


def test_directives_resolve_against_the_request():
    use_case = CATALOG.get("customer-experience/personalize")
    with_items = use_case.output_schema({"items": [{"id": "p1"}, {"id": "p2"}]})
    assert with_items["properties"]["recommendations"]["items"]["properties"]["itemId"]["enum"] == ["p1", "p2"]
    assert with_items["properties"]["recommendations"]["maxItems"] == 2
    assert use_case.output_schema({})["properties"]["recommendations"]["maxItems"] == 0
    anomalies = CATALOG.get("process-optimization/detect-anomalies").output_schema({"records": [{}, {}, {}]})
    assert anomalies["properties"]["anomalies"]["items"]["properties"]["index"]["maximum"] == 2


# --- the blocks a prompt fences: data to work on, or the caller's request to carry out --------------------------

# A decision, pinned: the inputs that are the caller's request (the model carries them out within the task), every
# other fenced input being data the model never obeys.
REQUESTS = {
    "customer-experience/personalize": ("goal",),
    "process-optimization/augment": ("instructions",),
    "productivity/ask": ("question",),
    "productivity/code": ("instruction",),
    "productivity/draft": ("brief",),
    "productivity/search": ("question",),
}


def test_the_callers_requests_are_request_blocks_and_nothing_else_is():
    assert {u.id: u.request_blocks for u in USE_CASES if u.request_blocks} == REQUESTS


@pytest.mark.parametrize("use_case", USE_CASES, ids=IDS)
def test_every_input_reaches_the_model_one_known_way(use_case):
    """A fenced block (data or request), a system placeholder of closed values (an enum through the vocabulary, an
    integer), the language rule, a caller schema (the tool's schema), the conversation, or, for a task that
    retrieves, the search alone (how many passages, which documents): never two, never none."""
    spec = use_case.prompt
    lines = " ".join(line["text"] if isinstance(line, dict) else line for line in spec["system"])
    closed = {name for name in placeholders(lines) if name in use_case.input_schema["properties"]}
    search_only = use_case.retrieval.caller_inputs if use_case.retrieval else ()
    for name, rules in use_case.input_schema["properties"].items():
        ways = [
            name in use_case.fenced_inputs,
            name in closed,
            name == "language",
            name in use_case.caller_schemas,
            name == spec.get("conversation"),
            name == FILES_INPUT and use_case.file_input is not None,  # document and image blocks
            name in search_only,
            use_case.memory and name == MEMORY_PROPERTY,  # names the stored history that goes before the messages
        ]
        assert ways.count(True) == 1 or (name in use_case.caller_schemas and name in use_case.data_blocks), (
            use_case.id,
            name,
            ways,
        )
        if name in closed:
            assert "enum" in rules or rules["type"] == "integer", (use_case.id, name)


@pytest.mark.parametrize(
    "use_case", [u for u in USE_CASES if u.fenced_inputs], ids=[u.id for u in USE_CASES if u.fenced_inputs]
)
def test_the_instruction_names_a_block_the_request_carries(use_case):
    """Each instruction line names fenced blocks only, never one its condition excludes (``unless``); a line that
    excludes files names what the files would replace (the task's rule leaves it the only choice)."""
    spec = use_case.prompt["instruction"]
    required = set(use_case.input_schema.get("required", []))
    named_any = set()
    for line in [spec] if isinstance(spec, str) else spec:
        text = line if isinstance(line, str) else line["text"]
        present = {line["if"]} if isinstance(line, dict) and isinstance(line.get("if"), str) else set()
        present |= set(line.get("if", ())) if isinstance(line, dict) and isinstance(line.get("if"), list) else set()
        absent = {line.get("unless")} if isinstance(line, dict) and isinstance(line.get("unless"), str) else set()
        if use_case.file_input is not None and FILES_INPUT in absent:
            present |= set(use_case.file_input.replaces)  # no files: the text they replace is there
        referred = set(re.findall(r"<([A-Za-z]+)>", text))
        assert referred <= set(use_case.fenced_inputs), referred
        assert not referred & absent, (text, referred)
        assert present - required - {FILES_INPUT} <= referred or not present - {FILES_INPUT}, (text, present)
        named_any |= referred
    assert named_any, "the instruction names the blocks it works on"


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ({"system": [], "data": ["a"], "request": ["a"], "instruction": "x"}, "one kind"),
        ({"system": [], "data": ["nope"], "instruction": "x"}, "not input properties"),
        ({"system": [], "conversation": "a", "data": ["a"]}, "its turns"),
        ({"system": [], "data": ["a"]}, "needs an instruction"),
    ],
)
def test_a_prompt_whose_blocks_do_not_add_up_is_a_catalog_error(tmp_path, prompt, message):
    folder = tmp_path / "productivity"
    folder.mkdir()
    (folder / "t.json").write_text(
        json.dumps(
            {
                "family": "productivity",
                "task": "t",
                "summary": "s",
                "input": {"type": "object", "properties": {"a": {"type": "string", "maxLength": 5}}},
                "output": {"text": "out"},
                "prompt": prompt,
                "inference": {"maxTokens": 10, "temperature": 0},
            }
        )
    )
    with pytest.raises(ValueError, match=message):
        load_catalog(tmp_path)


def test_only_text_tasks_can_stream(tmp_path: Path):
    source = CATALOG_DIR / "process-optimization" / "classify.json"
    data = json.loads(source.read_text())
    (tmp_path / "process-optimization").mkdir()
    (tmp_path / "process-optimization" / "classify.json").write_text(json.dumps({**data, "streaming": True}))

    with pytest.raises(ValueError, match="only a text task can stream"):
        load_catalog(tmp_path)


# --- files: a catalog property (which tasks take files, and what they replace) -----------------------------------

FILE_TASKS = [u for u in USE_CASES if u.file_input is not None]


def test_the_tasks_that_take_files_get_the_files_schema_from_one_home_and_their_text_becomes_optional():
    from genai_core import file_contract

    assert {u.id for u in FILE_TASKS} >= {
        "productivity/summarize",
        "productivity/ask",
        "process-optimization/extract",
        "process-optimization/classify",
    }
    for use_case in FILE_TASKS:
        files = use_case.input_schema["properties"][FILES_INPUT]
        assert {k: v for k, v in files.items() if k != "description"} == {
            k: v for k, v in file_contract.files_schema().items() if k != "description"
        }
        replaced = " or ".join(use_case.file_input.replaces)
        assert files["description"].endswith(f"Send {replaced}, files, or both.")
        assert not set(use_case.file_input.replaces) & set(use_case.input_schema.get("required", []))
        assert use_case.input_schema.get("required", ["x"]) != []  # draft-04: no empty required list
        assert use_case.file_input.rule in use_case.checks
    for use_case in USE_CASES:
        if use_case.file_input is None:
            assert FILES_INPUT not in use_case.input_schema["properties"]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({}, "text or files is required (either, or both)"),
        ({"text": "x"}, None),
        ({"files": []}, None),  # present: its own minItems refuses it
        ({"text": "x", "files": [{}]}, None),
    ],
)
def test_at_least_one_is_a_rule_of_the_catalog(request_, message):
    assert rules_error([{"atLeastOne": ["text", "files"]}], request_, request_) == message


def test_a_list_directive_joins_its_references_and_counts_an_absent_input_as_empty():
    ask = CATALOG.get("productivity/ask")
    citations = lambda schema: schema["properties"]["citations"]  # noqa: E731
    documents = {"documents": [{"id": "a", "text": "x"}], "question": "q"}
    assert citations(ask.output_schema(documents))["items"]["enum"] == ["a"]
    assert citations(ask.output_schema(documents))["maxItems"] == 1
    with_files = {**documents, "files": [{"name": "contract.pdf"}, {"name": "x.png"}]}
    resolved = citations(ask.output_schema(with_files, attached=["Document 1", "Image 1"]))
    assert resolved["items"]["enum"] == ["a", "Document 1", "Image 1"]  # the caller's file names: never
    assert resolved["maxItems"] == 3
    files_only = citations(ask.output_schema({"question": "q", "files": [{}]}, attached=["Document 1"]))
    assert (files_only["items"]["enum"], files_only["maxItems"]) == (["Document 1"], 1)


def test_a_conditional_line_needs_every_if_and_no_unless():
    from genai_core.catalog import condition_holds

    line = {"if": ["files", "text"], "unless": "documents", "text": "t"}
    assert condition_holds(line, {"files": [], "text": "x"})
    assert not condition_holds(line, {"files": []})
    assert not condition_holds(line, {"files": [], "text": "x", "documents": []})
    assert condition_holds({"unless": ["a", "b"], "text": "t"}, {"c": 1})


def write_task(tmp_path: Any, **changes: Any) -> Any:
    source = json.loads((CATALOG_DIR / "productivity" / "summarize.json").read_text(encoding="utf-8"))
    folder = tmp_path / "productivity"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summarize.json").write_text(json.dumps({**source, **changes}), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"files": {"replaces": []}}, "files replaces inputs that the prompt fences"),
        ({"files": {"replaces": ["style"]}}, "files replaces inputs that the prompt fences"),
        ({"files": {"replaces": ["nope"]}}, "files replaces inputs that the prompt fences"),
        ({"files": {"replace": ["text"]}}, 'files is {"replaces"'),
        ({"files": ["text"]}, 'files is {"replaces"'),
        (
            {"prompt": {"system": [{"if": "nope", "text": "x"}], "data": ["text"], "instruction": "x"}},
            "conditional on inputs ['nope']",
        ),
        ({"prompt": {"system": [{"if": "text"}], "data": ["text"], "instruction": "x"}}, "a conditional system line"),
        (
            {"prompt": {"system": [], "data": ["text"], "instruction": [{"when": "text", "text": "x"}]}},
            "a conditional instruction line",
        ),
        ({"prompt": {"system": [], "data": ["text", "files"], "instruction": "x"}}, "not input properties"),
    ],
)
def test_a_files_property_or_a_conditional_line_that_does_not_add_up_is_a_catalog_error(tmp_path, changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        load_catalog(write_task(tmp_path, **changes))


def test_a_chat_cannot_take_files_and_files_is_not_an_input_a_task_writes_itself(tmp_path):
    chat = json.loads((CATALOG_DIR / "customer-experience" / "chat.json").read_text(encoding="utf-8"))
    folder = tmp_path / "customer-experience"
    folder.mkdir()
    (folder / "chat.json").write_text(json.dumps({**chat, "files": {"replaces": ["messages"]}}), encoding="utf-8")
    with pytest.raises(ValueError, match="files replaces inputs that the prompt fences"):
        load_catalog(tmp_path)
    summarize = json.loads((CATALOG_DIR / "productivity" / "summarize.json").read_text(encoding="utf-8"))
    summarize["input"]["properties"]["files"] = {"type": "array", "maxItems": 1, "items": {"type": "string"}}
    with pytest.raises(ValueError, match="files is an input the loader adds"):
        load_catalog(write_task(tmp_path / "other", input=summarize["input"]))


# --- retrieval: a task that searches the knowledge base declares it as data ---------------------------------------


def retrieving_file(tmp_path, **changes: Any) -> Any:
    """A copy of the catalog's retrieving task, changed as given (``retrieval`` keys, or whole sections)."""
    (use_case,) = [u for u in USE_CASES if u.retrieval is not None]
    data = json.loads(
        (ROOT / "lambda" / "genai_api" / "use_cases" / use_case.family / f"{use_case.task}.json").read_text()
    )
    for key, value in changes.items():
        if key in data:
            data[key] = value
        elif value is None:
            data["retrieval"].pop(key, None)
        else:
            data["retrieval"][key] = value
    folder = tmp_path / use_case.family
    folder.mkdir()
    (folder / f"{use_case.task}.json").write_text(json.dumps(data))
    return tmp_path


def test_a_task_that_retrieves_declares_its_query_passages_inputs_and_citations_as_data():
    retrieving = [u for u in USE_CASES if u.retrieval is not None]
    assert retrieving  # the catalog has one: the tests below are not vacuous
    for use_case in retrieving:
        retrieval = use_case.retrieval
        properties = use_case.input_schema["properties"]
        assert properties[retrieval.query]["type"] == "string" and "maxLength" in properties[retrieval.query]
        assert retrieval.passages in use_case.data_blocks and retrieval.passages not in properties
        assert f"<{retrieval.passages}>" in use_case.prompt["instruction"]
        if retrieval.results:  # the caller's number of passages is bounded by the schema, within Retrieve's 1-100
            bounds = properties[retrieval.results]
            assert 1 <= bounds["minimum"] <= retrieval.default_results <= bounds["maximum"] <= 100
            assert f"default: {retrieval.default_results}" in bounds["description"]
        cited = use_case.output["schema"]["properties"][retrieval.citations]
        assert cited["items"]["enum"] == {"$retrieved": "id"} and cited["uniqueItems"] is True
        assert retrieval.answerable not in use_case.output["schema"]["properties"]  # the core sets it
        public = retrieval.public_schema(use_case.output_schema({}, ()))  # what the caller gets
        for language, output in retrieval.nothing_retrieved.items():  # ... when nothing is found
            answer = retrieval.cite(output, {})
            assert schema.first_error(answer, public) is None, language
            assert answer[retrieval.answerable] is False and answer[retrieval.citations] == []


def test_the_query_is_the_last_user_turns_then_the_question():
    (use_case,) = [u for u in USE_CASES if u.retrieval is not None]
    retrieval = use_case.retrieval
    turns = [{"role": role, "content": f"{role} {index}"} for index, role in enumerate(["user", "assistant"] * 3)]

    assert retrieval.query_text({retrieval.query: "Q"}) == "Q"
    assert retrieval.query_text({retrieval.query: "Q", retrieval.follow_up: turns}) == "user 2\nuser 4\nQ"
    assert retrieval.number_of_results({}) == retrieval.default_results
    assert retrieval.number_of_results({retrieval.results: 3}) == 3


def test_without_a_knowledge_base_the_tasks_that_retrieve_are_not_served():
    served = CATALOG.served(knowledge_base=False)
    assert {u.id for u in served} == {u.id for u in USE_CASES if u.retrieval is None}
    assert {u.id for u in CATALOG.served(knowledge_base=True)} == set(IDS)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"query": "nope"}, "query must name an input property of type string"),
        ({"results": "question"}, "results must name an input property of type integer"),
        ({"filter": "question"}, "filter must name an input property of type object"),
        ({"followUp": "question"}, "follow_up must name an input property of type array"),
        ({"passages": "question"}, "passages names a data block of the prompt that is not an input"),
        ({"passages": "elsewhere"}, "passages names a data block"),
        ({"defaultResults": 0}, "defaultResults must be an integer from 1 to 100"),
        ({"defaultResults": 101}, "from 1 to 100"),
        ({"citations": "answer"}, 'items\' enum is {"$retrieved": "id"}'),
        ({"answerable": "answer"}, "answerable is set by the core from citations"),
        ({"nothingRetrieved": {"pt": {"answer": "x", "citations": []}}}, "needs a default output"),
        ({"rerank": True}, "unknown: rerank"),
    ],
)
def test_a_retrieval_that_does_not_add_up_is_a_catalog_error(tmp_path, changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        load_catalog(retrieving_file(tmp_path, **changes))


def test_the_retrieved_directive_resolves_to_the_passages_of_the_request():
    (use_case,) = [u for u in USE_CASES if u.retrieval is not None]
    passages = [{"id": "p1", "source": "s3://b/a.md", "text": "a"}, {"id": "p2", "source": "s3://b/b.md", "text": "b"}]

    resolved = use_case.output_schema({"question": "q"}, passages)

    assert resolved["properties"][use_case.retrieval.citations]["items"]["enum"] == ["p1", "p2"]
    assert directive_of({"$retrieved": "id"}) == "$retrieved"
