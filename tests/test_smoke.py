"""`make smoke`, offline: the stack outputs come from a Stubber'd CloudFormation client (the API key of
authMode=api-key from a Stubber'd API Gateway client), and the requests go to a local HTTP server on 127.0.0.1 that
checks each SigV4 signature (recomputed with the test credentials), or the API key, before answering like the API
(``tests/sigv4_api.py``). Only these tests may open sockets, and only to 127.0.0.1.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from endpoints import UPLOADS_PATH
from genai_core import schema
from genai_core.catalog import load_catalog
from stacks import outputs
from tests.sigv4_api import API_KEY, API_KEY_ID, CREDENTIALS, REGION, ROUTES, STACK, FakeApi
from tools import smoke

TASK_ROUTES = ROUTES - {UPLOADS_PATH}


@pytest.fixture(autouse=True)
def no_api_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(smoke.API_KEY_ENV, raising=False)  # a caller's own key would turn every SigV4 test into api-key


def run_smoke(client: Any, **kwargs: Any) -> tuple[int, str]:
    out = io.StringIO()
    code = smoke.run(
        stack_name=STACK,
        cloudformation=client,
        credentials=CREDENTIALS,
        default_region=REGION,
        timeout=5,
        out=out,
        **kwargs,
    )
    return code, out.getvalue()


def rows(report: str) -> list[list[str]]:
    lines = report.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("route"))
    return [re.split(r"\s{2,}", line) for line in lines[header + 1 : -1]]


def examples_on_disk() -> dict[str, dict[str, Any]]:
    return {str(path.relative_to(smoke.ROOT)): json.loads(path.read_text()) for path in smoke.EXAMPLES.rglob("*.json")}


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_smoke_sends_every_example_signed_and_reports_each_route(fake_api, cloudformation):
    client = cloudformation(
        outputs=[
            {"OutputKey": "FunctionName", "OutputValue": "fn"},
            {"OutputKey": "ApiUrl", "OutputValue": fake_api},
            {"OutputKey": outputs.KNOWLEDGE_BASE_ID, "OutputValue": "KBSMOKE001"},  # the stack has one: search too
        ]
    )

    code, report = run_smoke(client)

    assert code == 0, report
    api_calls = [seen for seen in FakeApi.seen if seen["method"] != "PUT"]  # the PUT goes to S3, unsigned
    assert [seen["problem"] for seen in api_calls] == [None] * len(api_calls)  # every signature checked out
    found = smoke.find_examples(smoke.EXAMPLES, list(load_catalog()))
    examples = {example.source: example.body for example in found if not example.by_upload}
    with_files = [name for name, body in examples.items() if "files" in body]
    assert {seen["route"] for seen in api_calls} == TASK_ROUTES | {UPLOADS_PATH}
    tasks = [seen for seen in api_calls if seen["route"] != UPLOADS_PATH]
    (uploaded,) = [seen["body"] for seen in tasks if "uploadId" in json.dumps(seen["body"])]
    assert sorted(json.dumps(seen["body"], sort_keys=True) for seen in tasks if seen["body"] is not uploaded) == sorted(
        json.dumps(body, sort_keys=True) for body in examples.values()
    )
    table = rows(report)
    assert len(table) == len(examples) + 1  # every example, and one of those with a file once more by upload
    assert sorted({row[0] for row in table}) == sorted(TASK_ROUTES)
    sources = [row[1] for row in table]
    assert sorted(source for source in sources if "(by upload)" not in source) == sorted(examples)
    (by_upload,) = [source for source in sources if source.endswith(" (by upload)")]
    assert by_upload.removesuffix(" (by upload)") in with_files
    for route, source, status, latency, input_tokens, output_tokens, stop_reason in table:
        assert source.startswith(f"examples{route}")
        assert (status, input_tokens, output_tokens, stop_reason) == ("200", "120", "20", "end_turn")
        assert int(latency) >= 0
    assert report.splitlines()[-1] == f"smoke: {len(table)} of {len(table)} request(s) succeeded"


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_the_upload_run_sends_the_examples_file_by_a_presigned_put_and_names_its_upload_id(fake_api, cloudformation):
    code, report = run_smoke(cloudformation(outputs=[{"OutputKey": "ApiUrl", "OutputValue": fake_api}]))

    assert code == 0, report
    (post,) = [seen for seen in FakeApi.seen if seen["route"] == UPLOADS_PATH]
    (put,) = [seen for seen in FakeApi.seen if seen["method"] == "PUT"]
    ((upload_id, stored),) = FakeApi.stored.items()
    (task,) = [seen for seen in FakeApi.seen if upload_id in json.dumps(seen["body"])]
    (item,) = task["body"]["files"]
    original = next(
        body for body in examples_on_disk().values() if body.get("files") and body["files"][0]["name"] == item["name"]
    )
    assert base64.b64decode(original["files"][0]["data"]) == stored  # the same bytes, by upload
    assert post["body"] == {"name": item["name"], "format": item["format"], "size": len(stored)}
    assert item == {"name": item["name"], "format": item["format"], "uploadId": upload_id}
    assert (put["size"], put["signed"]) == (len(stored), False)


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_failed_upload_is_a_failed_row_not_a_crash(fake_api, cloudformation):
    FakeApi.answers[UPLOADS_PATH] = (400, {"error": {"code": "uploads_not_configured", "message": "no bucket"}})

    code, report = run_smoke(cloudformation(outputs=[{"OutputKey": "ApiUrl", "OutputValue": fake_api}]))

    assert code == 1
    (failed,) = [row for row in rows(report) if row[1].endswith("(by upload)")]
    assert failed[2] == "-" and "answered 400" in failed[-1]


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_stack_without_a_knowledge_base_gets_no_search_and_the_report_says_so(fake_api, cloudformation):
    searching = {use_case.path for use_case in load_catalog() if use_case.retrieval is not None}
    assert searching  # not vacuous

    code, report = run_smoke(cloudformation(outputs=[{"OutputKey": "ApiUrl", "OutputValue": fake_api}]))

    assert code == 0, report
    api_calls = [seen for seen in FakeApi.seen if seen["method"] != "PUT"]  # the PUT of the upload goes to S3
    assert {seen["route"] for seen in api_calls} == ROUTES - searching
    assert f"smoke: the stack has no knowledge base: {', '.join(sorted(searching))} not sent" in report


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_smoke_fails_when_any_route_fails_and_says_why(fake_api, cloudformation):
    FakeApi.answers["/productivity/summarize"] = (502, {"error": {"code": "model_output_invalid", "message": "..."}})
    FakeApi.answers["/customer-experience/chat"] = (200, {"unexpected": "shape"})

    code, report = run_smoke(
        cloudformation(
            outputs=[
                {"OutputKey": "ApiUrl", "OutputValue": fake_api},
                {"OutputKey": outputs.KNOWLEDGE_BASE_ID, "OutputValue": "KBSMOKE001"},
            ]
        )
    )

    assert code == 1
    by_route = {row[0]: row for row in rows(report)}
    assert by_route["/productivity/summarize"][2] == "502"
    assert by_route["/productivity/summarize"][-1] == "model_output_invalid"
    assert by_route["/customer-experience/chat"][-1] == "unexpected response"  # a 200 without the route's answer
    assert by_route["/process-optimization/extract"][2] == "200"
    failed = sum(1 for row in rows(report) if row[0] in ("/productivity/summarize", "/customer-experience/chat"))
    total = len(rows(report))
    assert report.splitlines()[-1] == f"smoke: {total - failed} of {total} request(s) succeeded"


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_route_without_an_example_gets_a_request_built_from_its_schema(fake_api, cloudformation, tmp_path):
    example = tmp_path / "productivity" / "summarize.json"
    example.parent.mkdir()
    example.write_text(json.dumps({"text": "Short text."}))

    code, report = run_smoke(
        cloudformation(outputs=[{"OutputKey": "ApiUrl", "OutputValue": fake_api}]), examples_dir=tmp_path
    )

    sources = {row[0]: row[1] for row in rows(report)}
    assert sources["/productivity/summarize"].endswith("summarize.json")
    assert sources["/customer-experience/chat"] == sources["/process-optimization/extract"] == "generated"
    chat = next(seen["body"] for seen in FakeApi.seen if seen["route"] == "/customer-experience/chat")
    assert chat == {"messages": [{"role": "user", "content": "Smoke test: please answer in one short sentence."}]}
    assert code == 0


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_an_unreachable_api_is_a_failure_not_a_crash(cloudformation):
    code, report = run_smoke(cloudformation(outputs=[{"OutputKey": "ApiUrl", "OutputValue": "http://127.0.0.1:9/v1/"}]))

    assert code == 1
    for row in rows(report):  # the upload run fails at its first step, POST /uploads
        assert row[2] == "-" and (row[-1].startswith("no response") or "/uploads for" in row[-1]), row


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_in_api_key_mode_every_request_carries_the_stacks_key_unsigned(
    fake_api, cloudformation, apigateway, monkeypatch
):
    monkeypatch.setattr(FakeApi, "api_key", API_KEY)
    stack = cloudformation(
        outputs=[
            {"OutputKey": "ApiUrl", "OutputValue": fake_api},
            {"OutputKey": "ApiKeyId", "OutputValue": API_KEY_ID},
            {"OutputKey": outputs.KNOWLEDGE_BASE_ID, "OutputValue": "KBSMOKE001"},
        ]
    )

    code, report = run_smoke(stack, apigateway=apigateway())

    assert code == 0, report
    assert {(seen["problem"], seen["signed"]) for seen in FakeApi.seen} == {(None, False)}  # the PUT included
    requests = len(rows(report))
    assert report.splitlines()[0] == f"smoke: {requests} request(s) to {fake_api} ({REGION}, API key)"


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_key_given_is_sent_instead_and_a_wrong_one_fails_every_route(fake_api, cloudformation, monkeypatch):
    monkeypatch.setattr(FakeApi, "api_key", API_KEY)
    stack = [
        {"OutputKey": "ApiUrl", "OutputValue": fake_api},
        {"OutputKey": "ApiKeyId", "OutputValue": API_KEY_ID},
        {"OutputKey": outputs.KNOWLEDGE_BASE_ID, "OutputValue": "KBSMOKE001"},
    ]

    assert run_smoke(cloudformation(outputs=stack), api_key=API_KEY)[0] == 0  # no API Gateway client needed
    code, report = run_smoke(cloudformation(outputs=stack), api_key="not-the-key")

    assert code == 1
    assert all(row[2] == "403" or ("/uploads for" in row[-1] and "403" in row[-1]) for row in rows(report))
    assert report.splitlines()[-1] == f"smoke: 0 of {len(rows(report))} request(s) succeeded"


def test_smoke_takes_the_key_from_the_environment(monkeypatch):
    monkeypatch.setenv(smoke.API_KEY_ENV, API_KEY)
    seen: dict[str, Any] = {}
    monkeypatch.setattr(smoke, "run", lambda **kwargs: seen.update(kwargs) or 0)

    assert smoke.main(["--region", REGION]) == 0
    assert seen["api_key"] == API_KEY


def test_a_stack_without_the_output_or_that_does_not_exist_stops_with_a_message(cloudformation):
    code, report = run_smoke(cloudformation(outputs=[{"OutputKey": "FunctionName", "OutputValue": "fn"}]))
    assert (code, report.strip()) == (
        1,
        f"smoke: stack {STACK!r} has no ApiUrl output (is it the API stack, and is it deployed?)",
    )

    code, report = run_smoke(cloudformation(error=f"Stack with id {STACK} does not exist"))
    assert code == 1 and "does not exist" in report


def test_without_credentials_nothing_is_sent(cloudformation):
    out = io.StringIO()
    client = cloudformation(
        outputs=[{"OutputKey": "ApiUrl", "OutputValue": "https://abc123.execute-api.us-east-1.amazonaws.com/v1/"}]
    )

    code = smoke.run(stack_name=STACK, cloudformation=client, credentials=None, default_region=REGION, out=out)

    assert code == 1
    assert "no AWS credentials" in out.getvalue()


def test_the_region_comes_from_the_api_url():
    assert smoke.region_of("https://abc123.execute-api.sa-east-1.amazonaws.com/v1/", "us-east-1") == "sa-east-1"
    assert smoke.region_of("http://127.0.0.1:8080/v1/", "us-east-1") == "us-east-1"


def test_every_example_is_a_valid_request_for_its_route():
    catalog = load_catalog()
    families = {use_case.family for use_case in catalog}
    # Requests live under examples/<family>/: examples/<family>/<task>.json for each route, and
    # examples/<family>/<task>/*.json for more of a task (files); examples/corpus/ holds the sample documents.
    examples = sorted(
        path for path in smoke.EXAMPLES.rglob("*.json") if path.relative_to(smoke.EXAMPLES).parts[0] in families
    )
    route_of = {path: "/".join(path.relative_to(smoke.EXAMPLES).parts[:2]).removesuffix(".json") for path in examples}

    assert {f"/{route}" for route in route_of.values()} == TASK_ROUTES
    languages = set()
    for path in examples:
        use_case = catalog.get(route_of[path])
        request = json.loads(path.read_text(encoding="utf-8"))
        assert schema.first_error(request, use_case.input_schema) is None, path
        assert use_case.input_rules_error(request) is None, path
        for name in use_case.caller_schemas:
            assert schema.object_schema_error(request[name], name) is None, path
        languages.add("pt-BR" if re.search(r"[ãçõé]", json.dumps(request, ensure_ascii=False)) else "en")
    assert languages == {"pt-BR", "en"}


def test_the_corpus_folder_is_not_sent_as_requests():
    found = smoke.find_examples(smoke.EXAMPLES, list(load_catalog()))
    assert (smoke.EXAMPLES / "corpus").is_dir() and list((smoke.EXAMPLES / "corpus").glob("*.json"))
    assert not [example for example in found if "corpus" in example.source]


def test_generated_requests_are_valid_where_the_schema_alone_suffices():
    catalog = load_catalog()
    for route in load_catalog():
        use_case = catalog.get(f"{route.family}/{route.task}")
        if use_case.caller_schemas:
            continue  # extract needs a caller's schema of fields: its example supplies one
        assert schema.first_error(smoke.minimal_value(route.input_schema), use_case.input_schema) is None, route.path


def test_smoke_is_a_make_target():
    makefile = (Path(smoke.ROOT) / "Makefile").read_text()

    assert re.search(r"^smoke: setup\n\t\$\(PY\) -m tools\.smoke", makefile, re.MULTILINE)


# --- a remembered turn, where the stack keeps conversations ---------------------------------------------------------


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_with_a_conversation_table_smoke_makes_a_remembered_turn_reads_it_and_erases_it(fake_api, cloudformation):
    client = cloudformation(
        outputs=[
            {"OutputKey": "ApiUrl", "OutputValue": fake_api},
            {"OutputKey": "ConversationsTableName", "OutputValue": "GenAiReferenceApi-ConversationsTable"},
        ]
    )

    code, report = run_smoke(client)

    assert code == 0, report
    assert [seen["problem"] for seen in FakeApi.seen] == [None] * len(FakeApi.seen)  # every request signed
    turn, read, erase, gone = FakeApi.seen[-4:]
    (memory,) = [route for route in load_catalog() if route.memory]
    conversation_id = turn["body"]["conversationId"]
    assert (turn["method"], turn["route"]) == ("POST", memory.path)
    assert re.fullmatch(r"smoke-[0-9a-f]{32}", conversation_id)  # a new one each run
    assert turn["body"]["messages"] == [{"role": "user", "content": smoke.SMOKE_TEXT}]
    path = f"/conversations/{conversation_id}"
    assert [(r["method"], r["route"]) for r in (read, erase, gone)] == [("GET", path), ("DELETE", path), ("GET", path)]
    assert FakeApi.conversations == {}  # nothing of the smoke test is kept
    checks = [row for row in rows(report) if row[1].startswith("conversation:")]
    assert [(row[1], row[2], row[-1]) for row in checks] == [
        ("conversation: a remembered turn", "200", "as expected"),
        ("conversation: read back", "200", "as expected"),
        ("conversation: deleted", "200", "as expected"),
        ("conversation: gone", "404", "as expected"),
    ]
    # The examples the stack serves (one of them again by upload: its POST /uploads and PUT are part of that row),
    # then these four.
    total = len([seen for seen in FakeApi.seen if seen["method"] != "PUT" and seen["route"] != UPLOADS_PATH])
    assert report.splitlines()[-1] == f"smoke: {total} of {total} request(s) succeeded"


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_turn_that_is_not_remembered_fails_the_smoke_test(fake_api, cloudformation):
    (memory,) = [route for route in load_catalog() if route.memory]
    FakeApi.answers[memory.path] = (
        200,
        {"useCase": memory.path.lstrip("/"), "conversationId": "x", "remembered": False},
    )
    client = cloudformation(
        outputs=[
            {"OutputKey": "ApiUrl", "OutputValue": fake_api},
            {"OutputKey": "ConversationsTableName", "OutputValue": "t"},
        ]
    )

    code, report = run_smoke(client)

    assert code == 1
    (row,) = [row for row in rows(report) if row[1] == "conversation: a remembered turn"]
    assert "no conversationId" in row[-1] or "not remembered" in row[-1]


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_without_a_conversation_table_smoke_sends_the_examples_only(fake_api, cloudformation):
    code, _ = run_smoke(cloudformation(outputs=[{"OutputKey": "ApiUrl", "OutputValue": fake_api}]))

    assert code == 0
    assert not any(seen["route"].startswith("/conversations") for seen in FakeApi.seen)
    assert not any(isinstance(seen["body"], dict) and "conversationId" in seen["body"] for seen in FakeApi.seen)
