"""docs/openapi.json is generated from the catalog (tools/openapi.py), committed, valid OpenAPI 3, and current."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from endpoints import DISCOVERY_PATH, UPLOADS_PATH
from genai_core import file_contract, schema
from genai_core.catalog import load_catalog
from genai_core.uploads import STORAGE_FAULTS
from tests.support import ROOT
from tools import openapi

CATALOG = load_catalog()
COMMITTED = ROOT / "docs" / "openapi.json"
REMEMBERS = any(use_case.memory for use_case in CATALOG)


def test_the_committed_document_is_current():
    assert COMMITTED.read_text(encoding="utf-8") == openapi.current_document(), (
        "docs/openapi.json is stale: run make openapi"
    )


def test_the_check_mode_reports_a_stale_document(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(openapi, "OUTPUT", stale)

    assert openapi.main(["--check"]) == 1
    assert "stale: run make openapi" in capsys.readouterr().out
    assert stale.read_text(encoding="utf-8") == "{}\n"  # --check never writes


def test_the_document_is_valid_openapi_3():
    validate(json.loads(COMMITTED.read_text(encoding="utf-8")))


def test_every_task_has_a_post_operation_with_its_schemas_and_example():
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    streams = {use_case.stream_path for use_case in CATALOG if use_case.streaming}
    conversations = {"/conversations", "/conversations/{conversationId}"} if REMEMBERS else set()
    others = {DISCOVERY_PATH, UPLOADS_PATH} | conversations
    assert set(document["paths"]) == {use_case.path for use_case in CATALOG} | streams | others
    for path in streams:
        assert set(document["paths"][path]["post"]["responses"]["200"]["content"]) == {"text/event-stream"}
    assert set(document["paths"]["/use-cases"]) == {"get"}
    for use_case in CATALOG:
        operation = document["paths"][use_case.path]["post"]
        body = operation["requestBody"]["content"]["application/json"]
        assert schemas[body["schema"]["$ref"].split("/")[-1]] == use_case.input_schema
        assert body["example"] == json.loads((ROOT / "examples" / f"{use_case.id}.json").read_text(encoding="utf-8"))
        assert {"200", "400", "403", "429", "500", "502", "504"} <= set(operation["responses"])
        assert ("422" in operation["responses"]) == use_case.structured  # guardrail_intervened on structured tasks
        envelope = schemas[
            operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
        ]
        assert set(envelope["required"]) == {"useCase", "output", "model", "usage", "stopReason"}
    assert document["security"] == [{"sigv4": []}, {"apiKey": []}]


def test_post_uploads_is_documented_with_the_schemas_the_api_and_the_function_use():
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    operation = document["paths"][UPLOADS_PATH]["post"]
    request = operation["requestBody"]["content"]["application/json"]
    assert schemas[request["schema"]["$ref"].split("/")[-1]] == file_contract.upload_request_schema()
    assert schema.first_error(request["example"], file_contract.upload_request_schema()) is None
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert schemas[answer] == file_contract.upload_answer_schema()
    for use_case in CATALOG:  # a task that takes files says how, and documents what its files can cause
        responses = document["paths"][use_case.path]["post"]["responses"]
        assert ("404" in responses and "410" in responses) == (use_case.file_input is not None)
        if use_case.file_input is not None:
            assert "`file_format_mismatch`" in responses["400"]["description"]
            assert "`upload_not_found`" in responses["404"]["description"]


def test_directives_are_described_not_leaked_into_the_documented_output():
    document = openapi.current_document()
    assert (
        '"$input"' not in document
        and '"$count"' not in document
        and '"$lastIndex"' not in document
        and '"$if"' not in document
        and '"$retrieved"' not in document
    )
    classify = json.loads(document)["components"]["schemas"]["ProcessOptimizationClassifyResponse"]["properties"][
        "output"
    ]
    assert "`enum`: the request's `categories`." in classify["properties"]["category"]["description"]
    assert "enum" not in classify["properties"]["category"]


def test_every_error_code_of_the_function_is_documented():
    from genai_core.bedrock import UPSTREAM_ERRORS

    document = openapi.current_document()
    for _, code, _ in UPSTREAM_ERRORS.values():
        assert f"`{code}`" in document
    for code in (
        "validation_error",
        "invalid_json",
        "payload_too_large",
        "prompt_too_large",
        "guardrail_intervened",
        "model_output_invalid",
        "internal_error",
    ):
        assert f"`{code}`" in document


def test_every_post_documents_each_status_and_code_the_function_can_return_on_it():
    from genai_core import errors
    from genai_core.bedrock import FAULTS

    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    returned = {(fault.status, fault.code) for fault in FAULTS}
    returned |= {
        (error.status, error.code)
        for error in (
            errors.InvalidJson,
            errors.InvalidEncoding,
            errors.ValidationFailed,
            errors.PayloadTooLarge,
            errors.UnsupportedMediaType,
            errors.ApiError,
        )
    }
    files = {(e.status, e.code) for e in (*openapi.FILE_ERRORS, *openapi.UPLOAD_ERRORS)}
    files |= {(fault.status, fault.code) for fault in STORAGE_FAULTS}
    takes_files = {use_case.path for use_case in CATALOG if use_case.file_input is not None}
    posts = {path: operations["post"] for path, operations in document["paths"].items() if "post" in operations}
    uploads = posts.pop(UPLOADS_PATH)
    assert len(posts) == len(CATALOG) + sum(1 for use_case in CATALOG if use_case.stream_path)
    for path, operation in posts.items():
        for status, code in returned | (files if path in takes_files else set()):
            response = operation["responses"].get(str(status))
            assert response is not None and f"`{code}`" in response["description"], (path, status, code)
    upload_returned = {(fault.status, fault.code) for fault in STORAGE_FAULTS} | {
        (e.status, e.code) for e in (errors.ValidationFailed, errors.FileTooLarge, errors.Forbidden)
    }
    upload_returned |= {(e.status, e.code) for e in (errors.UploadsNotConfigured, errors.UnsupportedMediaType)}
    for status, code in upload_returned:
        response = uploads["responses"].get(str(status))
        assert response is not None and f"`{code}`" in response["description"], (UPLOADS_PATH, status, code)


def test_a_task_that_retrieves_documents_the_knowledge_bases_errors_and_what_a_citation_holds():
    from genai_core import retrieval
    from genai_core.catalog import CITATION_SCHEMA

    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    retrieving = [use_case for use_case in CATALOG if use_case.retrieval is not None]
    assert retrieving  # not vacuous
    for use_case in retrieving:
        operation = document["paths"][use_case.path]["post"]
        for status, code, _ in retrieval.FAULTS:
            assert f"`{code}`" in operation["responses"][str(status)]["description"], (use_case.path, code)
        assert "nothing_retrieved" in operation["description"]
        name = "".join(word.capitalize() for word in f"{use_case.family}-{use_case.task}".split("-")) + "Response"
        output = document["components"]["schemas"][name]["properties"]["output"]
        assert output["properties"][use_case.retrieval.citations]["items"] == CITATION_SCHEMA
        assert output["properties"][use_case.retrieval.answerable]["type"] == "boolean"
        assert use_case.retrieval.answerable in output["required"]
    for use_case in CATALOG:  # and only those: the others never search
        if use_case.retrieval is None:
            described = json.dumps(document["paths"][use_case.path])
            assert "knowledge_base_not_found" not in described, use_case.path


def test_a_task_that_remembers_documents_the_conversation_its_answer_carries_and_the_stores_errors():
    from genai_core import errors
    from genai_core.conversations import FAULTS as STORE_FAULTS

    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    remembering = [use_case for use_case in CATALOG if use_case.memory]
    assert remembering
    returned = {(fault.status, fault.code) for fault in STORE_FAULTS} | {
        (error.status, error.code)
        for error in (errors.ConversationsDisabled, errors.ConversationTooLarge, errors.CallerIdentityMissing)
    }
    for use_case in remembering:
        for path in filter(None, (use_case.path, use_case.stream_path)):
            operation = document["paths"][path]["post"]
            assert "conversationId" in operation["description"]
            for status, code in returned:
                assert f"`{code}`" in operation["responses"][str(status)]["description"], (path, status, code)
        envelope = schemas[f"{openapi._schema_name(use_case, 'Response')}"]
        assert {"conversationId", "remembered"} <= set(envelope["properties"])
    for name in ("cacheReadInputTokens", "cacheWriteInputTokens"):
        assert name in schemas["Usage"]["properties"] and name not in schemas["Usage"]["required"]


def test_the_conversation_routes_are_documented_with_their_errors():
    from genai_core.conversations import FAULTS as STORE_FAULTS

    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    one = document["paths"]["/conversations/{conversationId}"]
    assert set(one) == {"parameters", "get", "delete"}
    assert set(document["paths"]["/conversations"]) == {"get"}
    for operation in (one["get"], one["delete"], document["paths"]["/conversations"]["get"]):
        responses = operation["responses"]
        assert "409" not in responses  # only a turn's write can lose a race
        for status, code, _ in STORE_FAULTS:
            if status != 409:
                assert f"`{code}`" in responses[str(status)]["description"]
    for operation in (one["get"], one["delete"]):
        assert "`conversation_not_found`" in operation["responses"]["404"]["description"]
