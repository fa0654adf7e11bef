"""The use-case catalog is the single source of truth: every file in it must be internally consistent, and the
function and the stack must read the same set of use cases from it."""

from __future__ import annotations

import json
import re
import string
from typing import Any

import pytest

from genai_core import languages, schema
from genai_core.catalog import FAMILIES, MEMORY_PROPERTY, load_catalog, rules_error
from genai_core.prompts import render
from stacks.catalog import load_routes
from tests.support import ROOT
from tools.fake_bedrock import instance_from_schema

CATALOG = load_catalog()
USE_CASES = sorted(CATALOG, key=lambda use_case: use_case.id)
IDS = [use_case.id for use_case in USE_CASES]


def placeholders(text: str) -> set[str]:
    return {match[1] or match[2] for match in string.Template.pattern.findall(text) if match[1] or match[2]}


def test_the_stack_and_the_function_see_the_same_use_cases():
    routes = {(route.family, route.task, route.summary) for route in load_routes()}
    assert routes == {(u.family, u.task, u.summary) for u in USE_CASES}
    assert {route.path: route.input_schema for route in load_routes()} == {
        u.path: dict(u.input_schema) for u in USE_CASES
    }


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
    for name in spec.get("data", []):
        assert name in properties
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
        found = [node] if any(key in node for key in ("$input", "$count", "$lastIndex", "$if")) else []
        return found + [d for value in node.values() for d in directives(value)]
    if isinstance(node, list):
        return [d for item in node for d in directives(item)]
    return []


@pytest.mark.parametrize(
    "use_case", [u for u in USE_CASES if u.structured], ids=[u.id for u in USE_CASES if u.structured]
)
def test_output_directives_refer_to_the_inputs_they_need(use_case):
    properties = use_case.input_schema["properties"]
    required = set(use_case.input_schema["required"])
    for directive in directives(use_case.output["schema"]):
        if "$if" in directive:
            assert directive["$if"] in properties and set(directive) == {"$if", "then", "else"}
            continue
        (kind,) = [key for key in directive if key.startswith("$")]
        name, _, field_name = directive[kind].partition("[].")
        assert name in properties, directive
        # Unguarded, an optional input could be absent: only required ones, or ones under a "$if" on them.
        guarded = any(
            d.get("$if") == name and directive in directives(d["then"])
            for d in directives(use_case.output["schema"])
            if "$if" in d
        )
        assert name in required or guarded, f"{directive} needs {name}, which is optional"
        if kind in ("$count", "$lastIndex") or field_name:
            assert properties[name]["type"] == "array", directive
        if field_name:
            assert field_name in properties[name]["items"]["required"], directive


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
    optional = set(use_case.input_schema["properties"]) - set(use_case.input_schema["required"])
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
}


def test_the_callers_requests_are_request_blocks_and_nothing_else_is():
    assert {u.id: u.request_blocks for u in USE_CASES if u.request_blocks} == REQUESTS


@pytest.mark.parametrize("use_case", USE_CASES, ids=IDS)
def test_every_input_reaches_the_model_one_known_way(use_case):
    """A fenced block (data or request), a system placeholder of closed values (an enum through the vocabulary, an
    integer), the language rule, a caller schema (the tool's schema), or the conversation: never two, never none."""
    spec = use_case.prompt
    lines = " ".join(line["text"] if isinstance(line, dict) else line for line in spec["system"])
    closed = {name for name in placeholders(lines) if name in use_case.input_schema["properties"]}
    for name, rules in use_case.input_schema["properties"].items():
        ways = [
            name in use_case.fenced_inputs,
            name in closed,
            name == "language",
            name in use_case.caller_schemas,
            name == spec.get("conversation"),
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
    referred = set(re.findall(r"<([A-Za-z]+)>", use_case.prompt["instruction"]))
    assert referred and referred <= set(use_case.fenced_inputs), referred


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
