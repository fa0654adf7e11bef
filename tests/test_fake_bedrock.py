"""tools/fake_bedrock.py: the fake model of make local --fake-bedrock answers requests with document and image
blocks as Converse does, refusing in Bedrock's own words what Converse refuses; the function's requests pass."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from genai_core import file_contract, files
from genai_core.catalog import load_catalog
from tests import file_samples
from tools import fake_bedrock

CATALOG = load_catalog()
FILE_TASKS = sorted((u for u in CATALOG if u.file_input is not None), key=lambda u: u.id)


def document(name: str) -> dict[str, Any]:
    return {"document": {"format": "pdf", "name": name, "source": {"bytes": "JVBERi0="}}}


def turn(*content: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": list(content)}]


@pytest.mark.parametrize(
    ("messages", "problem"),
    [
        (turn(document("Document 1")), fake_bedrock.NO_TEXT_BLOCK),
        (turn(document("Document 1"), {"text": "  "}), fake_bedrock.NO_TEXT_BLOCK),
        (turn(document("report.pdf"), {"text": "x"}), fake_bedrock.BAD_NAME),
        (turn(document("two  spaces"), {"text": "x"}), fake_bedrock.BAD_NAME),
        (turn(document("Dokument ü"), {"text": "x"}), fake_bedrock.BAD_NAME),
        (turn(document("a" * 201), {"text": "x"}), fake_bedrock.BAD_NAME),
        (turn(document("Document 1"), document("Document 1"), {"text": "x"}), fake_bedrock.DUPLICATE_NAMES),
        (turn(*(document(f"Document {n}") for n in range(6)), {"text": "x"}), fake_bedrock.TOO_MANY_DOCUMENTS),
        (
            turn(*({"image": {"format": "png", "source": {"bytes": "iVBO"}}} for _ in range(21)), {"text": "x"}),
            "too many images",
        ),
    ],
)
def test_what_converse_refuses_about_files_is_refused_in_bedrocks_words(messages, problem):
    with pytest.raises(fake_bedrock.FakeValidationError) as refused:
        fake_bedrock.fake_converse(modelId="m", messages=messages)
    assert problem in str(refused.value)


def test_a_request_within_the_rules_gets_an_answer():
    messages = turn(document("Document 1"), document("Document 2 (draft)"), {"text": "Summarize."})
    answer = fake_bedrock.fake_converse(modelId="m", messages=messages)
    assert answer["output"]["message"]["content"] == [{"text": fake_bedrock.FAKE_TEXT}]


@pytest.mark.parametrize("use_case", FILE_TASKS, ids=lambda u: u.id)
def test_the_functions_request_with_the_most_files_bedrock_takes_passes_the_rules(handler, use_case):
    """Every document and image Bedrock takes in one request, through the function's own prompt: the fake (and so
    Converse's documented rules) accepts it, with the JSON botocore would send."""
    items = [
        {"name": f"f{n}", "format": fmt, "data": base64.b64encode(file_samples.SAMPLES[fmt]()).decode()}
        for kind in file_contract.KINDS
        for n, fmt in enumerate([kind.formats[0]] * kind.max_count)
    ]
    attachments = files.resolve(items)
    example = {name: "x" for name in use_case.input_schema.get("required", []) if name not in ("fields", "categories")}
    if "fields" in use_case.input_schema["properties"]:
        example["fields"] = {"type": "object", "properties": {"total": {"type": "number"}}}
    if "categories" in use_case.input_schema["properties"]:
        example["categories"] = ["a", "b"]
    request = handler.service.build_request(use_case, {**example, "files": items}, attachments=attachments)
    as_sent = [
        {**message, "content": [_as_json(block) for block in message["content"]]} for message in request["messages"]
    ]
    assert fake_bedrock.file_rules(as_sent) is None


def _as_json(block: dict[str, Any]) -> dict[str, Any]:
    """A content block as botocore serializes it (bytes in base64): what the fake reads from the wire."""
    for member in ("document", "image"):
        if member in block:
            source = {"bytes": base64.b64encode(block[member]["source"]["bytes"]).decode()}
            return {member: {**block[member], "source": source}}
    return block
