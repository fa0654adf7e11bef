"""The use-case catalog is the single source of truth: every file in it must be internally consistent, and the
function and the stack must read the same set of use cases from it."""

from __future__ import annotations

import re
import string
from typing import Any

import pytest
from genai_core import schema
from genai_core.catalog import FAMILIES, load_catalog
from genai_core.prompts import render

from stacks.catalog import load_routes
from tests.fake_bedrock import instance_from_schema

CATALOG = load_catalog()
USE_CASES = sorted(CATALOG, key=lambda use_case: use_case.id)
IDS = [use_case.id for use_case in USE_CASES]


def placeholders(text: str) -> set[str]:
    return {match[1] or match[2] for match in string.Template.pattern.findall(text) if match[1] or match[2]}


def test_the_stack_and_the_function_see_the_same_use_cases():
    routes = {(route.family, route.task, route.summary) for route in load_routes()}
    assert routes == {(u.family, u.task, u.summary) for u in USE_CASES}
    assert {route.path: route.input_schema for route in load_routes()} == {u.path: dict(u.input_schema) for u in USE_CASES}


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
        assert f"in this language: {language}." in prompt.system
