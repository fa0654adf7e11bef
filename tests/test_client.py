"""`python -m tools.client`, offline: the API's URL comes from a Stubber'd CloudFormation client (and, in
authMode=api-key, the key from a Stubber'd API Gateway client), and the requests go to the stand-in of the API on
127.0.0.1 (tests/sigv4_api.py, the one `make smoke` is tested against), which recomputes every signature or checks
the API key. The client against the real local server is in test_local_api.py.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest

from genai_core import file_contract
from tests import file_samples
from tests.sigv4_api import API_KEY, API_KEY_ID, CREDENTIALS, REGION, FakeApi, success
from tools import client
from tools.smoke import API_KEY_ENV, EXAMPLES, Auth


@pytest.fixture(autouse=True)
def no_api_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)  # a caller's own key would turn every SigV4 test into api-key


class FakeSession:
    """What the client asks of a boto3 session: credentials, a region, a CloudFormation and an API Gateway client."""

    region_name = REGION

    def __init__(self, cloudformation: Any = None, credentials: Any = CREDENTIALS, apigateway: Any = None) -> None:
        self.clients = {"cloudformation": cloudformation, "apigateway": apigateway}
        self.credentials = credentials

    def get_credentials(self) -> Any:
        return self.credentials

    def client(self, name: str) -> Any:
        assert self.clients[name] is not None, f"unexpected {name} client"
        return self.clients[name]


class NoRegion(FakeSession):
    region_name = None


def run(argv: list[str], session: FakeSession, stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = client.main(argv, session=session, stdin=io.BytesIO(stdin), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def outputs(url: str) -> list[dict[str, str]]:
    return [{"OutputKey": "FunctionName", "OutputValue": "fn"}, {"OutputKey": "ApiUrl", "OutputValue": url}]


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_task_sends_its_example_signed_to_the_stacks_api_url_and_pretty_prints_the_answer(fake_api, cloudformation):
    code, out, err = run(["productivity/summarize"], FakeSession(cloudformation(outputs=outputs(fake_api))))

    assert code == 0, err
    (seen,) = FakeApi.seen
    assert (seen["method"], seen["route"], seen["problem"]) == (
        "POST",
        "/productivity/summarize",
        None,
    )  # signature checked
    assert seen["body"] == json.loads((EXAMPLES / "productivity" / "summarize.json").read_text())
    assert json.loads(out) == success("/productivity/summarize")
    assert out == json.dumps(success("/productivity/summarize"), indent=2) + "\n"
    assert f"POST {fake_api}productivity/summarize -> 200 OK" in err


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_use_cases_is_a_signed_get(fake_api):
    code, out, _ = run(["use-cases", "--url", fake_api], FakeSession())

    assert code == 0
    assert [(seen["method"], seen["route"], seen["problem"], seen["body"]) for seen in FakeApi.seen] == [
        ("GET", "/use-cases", None, None)
    ]
    assert json.loads(out) == success("/use-cases")


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_the_body_comes_from_a_file_or_stdin(fake_api, tmp_path):
    body = {"text": "Um texto curto em português.", "style": "tldr"}
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")

    assert run(["productivity/summarize", "--url", fake_api, "--body", str(path)], FakeSession())[0] == 0
    assert (
        run(["productivity/summarize", "--url", fake_api, "--body", "-"], FakeSession(), stdin=path.read_bytes())[0]
        == 0
    )

    assert [seen["body"] for seen in FakeApi.seen] == [body, body]
    assert [seen["problem"] for seen in FakeApi.seen] == [None, None]


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_an_error_status_exits_1_and_still_prints_the_envelope(fake_api):
    envelope = {"error": {"code": "model_output_invalid", "message": "..."}}
    FakeApi.answers["/process-optimization/classify"] = (502, envelope)

    code, out, err = run(["process-optimization/classify", "--url", fake_api], FakeSession())

    assert (code, json.loads(out)) == (1, envelope)
    assert "-> 502 Bad Gateway" in err
    code, out, _ = run(["productivity/nope", "--url", fake_api, "--body", "-"], FakeSession(), stdin=b"{}")
    assert (code, json.loads(out)["error"]["code"]) == (1, "MISSING_AUTHENTICATION_TOKEN")


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_wrong_signature_is_refused_by_the_stand_in(fake_api):
    from botocore.credentials import Credentials

    code, out, _ = run(
        ["use-cases", "--url", fake_api],
        FakeSession(credentials=Credentials("AKIDSMOKETEST", "another-secret", "smoke-session-token")),
    )

    assert code == 1
    assert json.loads(out) == {"message": "signature mismatch"}


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_nothing_listening_exits_2():
    code, out, err = run(["use-cases", "--url", "http://127.0.0.1:9/v1/"], FakeSession())

    assert (code, out) == (2, "")
    assert "no response from http://127.0.0.1:9/v1/" in err


def test_what_stops_the_client_before_sending_exits_2_with_a_message(cloudformation):
    cases = [
        (
            ["productivity/summarize"],
            FakeSession(cloudformation(outputs=[{"OutputKey": "FunctionName", "OutputValue": "fn"}])),
            "has no ApiUrl output",
        ),
        (
            ["productivity/summarize"],
            FakeSession(cloudformation(error="Stack with id GenAiReferenceApi does not exist")),
            "does not exist",
        ),
        (
            ["productivity/summarize", "--url", "https://abc123.execute-api.us-east-1.amazonaws.com/v1/"],
            FakeSession(credentials=None),
            "no AWS credentials",
        ),
        (["productivity/summarize"], FakeSession(credentials=None), "no AWS credentials"),
        (["productivity/summarize"], NoRegion(), "no AWS region to find the stack in"),
        (["productivity", "--url", "http://127.0.0.1:9/"], FakeSession(), "expected <family>/<task> or use-cases"),
        (["productivity/no-example", "--url", "http://127.0.0.1:9/"], FakeSession(), "pass --body FILE or --body -"),
        (["use-cases", "--body", "-", "--url", "http://127.0.0.1:9/"], FakeSession(), "use-cases takes no body"),
    ]
    for argv, session, message in cases:
        code, out, err = run(argv, session)
        assert (code, out) == (2, ""), argv
        assert message in err, (argv, err)


def test_the_signing_region_is_the_urls():
    target = client.resolve_target(
        client.argparse.Namespace(
            local=False, url="https://abc123.execute-api.sa-east-1.amazonaws.com/v1/", port=None, stack_name="x"
        ),
        FakeSession(),
    )

    assert target.auth == Auth(CREDENTIALS.get_frozen_credentials(), "sa-east-1")


def test_local_needs_no_credentials_and_takes_its_port_from_port_or_the_flag(monkeypatch):
    monkeypatch.setenv("PORT", "3999")
    namespace = client.argparse.Namespace(local=True, url=None, port=None, stack_name="x")

    assert client.resolve_target(namespace, FakeSession(credentials=None)) == client.Target(
        "http://127.0.0.1:3999/", Auth()
    )
    namespace.port = 4001
    assert client.resolve_target(namespace, FakeSession()).base_url == "http://127.0.0.1:4001/"
    with pytest.raises(SystemExit):
        client.main(["use-cases", "--port", "4001"], session=FakeSession())  # --port goes with --local


# --- authMode=api-key -------------------------------------------------------------------------------------------


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_in_api_key_mode_the_stacks_key_is_read_and_sent_unsigned(fake_api, cloudformation, apigateway, monkeypatch):
    monkeypatch.setattr(FakeApi, "api_key", API_KEY)
    stack = cloudformation(outputs=[*outputs(fake_api), {"OutputKey": "ApiKeyId", "OutputValue": API_KEY_ID}])

    code, out, err = run(["productivity/summarize"], FakeSession(stack, apigateway=apigateway()))

    assert code == 0, err
    (seen,) = FakeApi.seen
    assert (seen["route"], seen["problem"], seen["signed"]) == ("/productivity/summarize", None, False)
    assert json.loads(out) == success("/productivity/summarize")


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_key_of_ones_own_needs_no_aws_credentials(fake_api, monkeypatch):
    monkeypatch.setattr(FakeApi, "api_key", API_KEY)
    no_aws = FakeSession(credentials=None)  # it would fail the test if asked for a client

    assert run(["use-cases", "--url", fake_api, "--api-key", API_KEY], no_aws)[0] == 0
    monkeypatch.setenv(API_KEY_ENV, API_KEY)
    assert run(["use-cases", "--url", fake_api], no_aws)[0] == 0

    assert [(seen["problem"], seen["signed"]) for seen in FakeApi.seen] == [(None, False), (None, False)]


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_wrong_key_or_a_signature_alone_is_refused_by_an_api_key_api(fake_api, monkeypatch):
    monkeypatch.setattr(FakeApi, "api_key", API_KEY)

    code, out, _ = run(["use-cases", "--url", fake_api, "--api-key", "not-the-key"], FakeSession())
    assert (code, json.loads(out)) == (1, {"message": "Forbidden"})
    code, out, _ = run(["use-cases", "--url", fake_api], FakeSession())  # SigV4 only
    assert (code, json.loads(out)) == (1, {"message": "Forbidden"})
    assert [seen["signed"] for seen in FakeApi.seen] == [False, True]


def test_a_stack_key_that_cannot_be_read_exits_2_and_says_what_to_do(cloudformation, apigateway, monkeypatch):
    stack = cloudformation(
        outputs=[
            *outputs("https://abc123.execute-api.us-east-1.amazonaws.com/v1/"),
            {"OutputKey": "ApiKeyId", "OutputValue": API_KEY_ID},
        ]
    )

    code, out, err = run(["use-cases"], FakeSession(stack, apigateway=apigateway(error="Invalid API Key identifier")))

    assert (code, out) == (2, "")
    assert f"cannot read the value of API key {API_KEY_ID!r} (the stack's ApiKeyId output)" in err
    assert f"pass --api-key or set {API_KEY_ENV}" in err


@pytest.fixture
def sse_api() -> Any:
    """A stand-in for the stream route: answers POST .../stream with chunked Server-Sent Events."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from http_io import write_response

    seen: list[str] = []
    ending = [
        b'event: done\ndata: {"stopReason":"end_turn","usage":{"inputTokens":9,"outputTokens":4,"totalTokens":13}}\n\n'
    ]

    class Response:
        def __init__(self, chunks: list[bytes]) -> None:
            self.status, self.headers, self.chunks, self.streamed = (
                200,
                {"Content-Type": "text/event-stream; charset=utf-8"},
                iter(chunks),
                True,
            )

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(self.path)
            write_response(
                self,
                Response(
                    [
                        b'event: delta\ndata: {"text":"Ol\xc3\xa1, "}\n\n',
                        b'event: delta\ndata: {"text":"tudo bem?"}\n\n',
                        *ending,
                    ]
                ),
            )

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/", seen, ending
    server.shutdown()
    server.server_close()


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_stream_posts_to_the_stream_route_and_prints_the_text_as_it_comes(sse_api):
    url, seen, _ = sse_api

    code, out, err = run(["customer-experience/chat", "--url", url, "--stream"], FakeSession())

    assert code == 0
    assert seen == ["/v1/customer-experience/chat/stream"]
    assert out == "Olá, tudo bem?\n"
    assert 'done: {"stopReason": "end_turn"' in err


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_stream_that_ends_in_an_error_event_exits_1(sse_api):
    url, _, ending = sse_api
    ending[0] = b'event: error\ndata: {"error":{"code":"throttled","message":"slow down"}}\n\n'

    code, out, err = run(["customer-experience/chat", "--url", url, "--stream"], FakeSession())

    assert code == 1
    assert out == "Olá, tudo bem?\n"
    assert 'error event: {"error": {"code": "throttled"' in err


def test_stream_needs_a_task():
    code, _, err = run(["use-cases", "--stream", "--url", "http://127.0.0.1:9/"], FakeSession())

    assert code == 2 and "--stream goes with" in err


# --- --file: inline, or by upload when the files are large ---------------------------------------------------------


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_small_file_goes_inline_in_the_tasks_example_without_the_text_it_replaces(fake_api, tmp_path):
    report = tmp_path / "report.PDF"
    report.write_bytes(file_samples.pdf("Q3 revenue grew 12%."))

    code, _, err = run(["productivity/summarize", "--url", fake_api, "--file", str(report)], FakeSession())

    assert code == 0, err
    (seen,) = FakeApi.seen
    example = json.loads((EXAMPLES / "productivity" / "summarize.json").read_text())
    assert "text" in example and "text" not in seen["body"]  # the file replaces the example's text
    assert {k: v for k, v in seen["body"].items() if k != "files"} == {k: v for k, v in example.items() if k != "text"}
    assert seen["body"]["files"] == [
        {"name": "report.PDF", "format": "pdf", "data": base64.b64encode(report.read_bytes()).decode()}
    ]
    assert seen["problem"] is None  # the body with the file is what was signed


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_files_beyond_the_inline_budget_go_by_a_signed_post_uploads_and_an_unsigned_put(fake_api, tmp_path):
    small, large = tmp_path / "scan.jpg", tmp_path / "contract.pdf"
    small.write_bytes(file_samples.jpeg())
    large.write_bytes(file_samples.pdf(padding=file_contract.MAX_INLINE_BYTES))
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"question": "When does it end?"}))

    argv = ["productivity/ask", "--url", fake_api, "--body", str(body), "--file", str(small), "--file", str(large)]
    code, _, err = run(argv, FakeSession())

    assert code == 0, err
    post, put, task = FakeApi.seen
    assert (post["method"], post["route"], post["problem"]) == ("POST", "/uploads", None)  # signed like every call
    assert post["body"] == {"name": "contract.pdf", "format": "pdf", "size": large.stat().st_size}
    assert (put["method"], put["size"], put["signed"]) == ("PUT", large.stat().st_size, False)
    (upload_id,) = FakeApi.stored
    assert FakeApi.stored[upload_id] == large.read_bytes()
    assert task["body"] == {
        "question": "When does it end?",  # a body of the caller's keeps what it has
        "files": [
            {"name": "scan.jpg", "format": "jpeg", "data": base64.b64encode(small.read_bytes()).decode()},
            {"name": "contract.pdf", "format": "pdf", "uploadId": upload_id},
        ],
    }
    assert f"uploaded contract.pdf ({large.stat().st_size} bytes) as {upload_id}" in err


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_refused_upload_stops_the_client_before_the_task_is_called(fake_api, tmp_path):
    FakeApi.answers["/uploads"] = (413, {"error": {"code": "file_too_large", "message": "too large"}})
    large = tmp_path / "big.pdf"
    large.write_bytes(file_samples.pdf(padding=file_contract.MAX_INLINE_BYTES))

    code, _, err = run(["productivity/summarize", "--url", fake_api, "--file", str(large)], FakeSession())

    assert code == 2
    assert "POST /uploads for big.pdf answered 413" in err and "file_too_large" in err
    assert [seen["route"] for seen in FakeApi.seen] == ["/uploads"]


# --- conversations ------------------------------------------------------------------------------------------------


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_conversation_id_is_added_to_the_body_and_the_conversation_can_be_listed_read_and_deleted(fake_api, tmp_path):
    turn = tmp_path / "turn.json"
    turn.write_text(json.dumps({"messages": [{"role": "user", "content": "Oi"}]}))
    url = ["--url", fake_api]

    code, out, _ = run(
        ["customer-experience/chat", "--body", str(turn), "--conversation-id", "c-1", *url], FakeSession()
    )
    assert code == 0 and json.loads(out)["conversationId"] == "c-1"
    assert FakeApi.seen[-1]["body"] == {"messages": [{"role": "user", "content": "Oi"}], "conversationId": "c-1"}

    code, out, _ = run(["conversations", "--limit", "5", "--next-token", "abc", *url], FakeSession())
    assert code == 0 and json.loads(out)["conversations"] == [{"conversationId": "c-1", "turns": 2}]
    assert (FakeApi.seen[-1]["method"], FakeApi.seen[-1]["query"]) == ("GET", "limit=5&nextToken=abc")
    assert run(["conversations/c-1", *url], FakeSession())[0] == 0
    code, out, _ = run(["conversations/c-1", "--delete", *url], FakeSession())
    assert code == 0 and json.loads(out) == {"conversationId": "c-1", "deleted": True}
    assert FakeApi.seen[-1]["method"] == "DELETE"
    code, out, _ = run(["conversations/c-1", *url], FakeSession())
    assert code == 1 and json.loads(out)["error"]["code"] == "conversation_not_found"
    assert all(seen["problem"] is None for seen in FakeApi.seen)  # every request signed, query strings included


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["customer-experience/chat", "--file", "{pdf}"], "customer-experience/chat takes no files; these tasks do:"),
        (["productivity/summarize", "--file", "{tmp}/slides.pptx"], "the API takes"),
        (["productivity/summarize", "--file", "{tmp}/missing.pdf"], "cannot read"),
    ],
)
def test_a_file_the_request_cannot_carry_exits_2_before_anything_is_sent(tmp_path, argv, message):
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(file_samples.pdf())
    (tmp_path / "slides.pptx").write_bytes(file_samples.pptx())
    argv = [arg.format(pdf=pdf, tmp=tmp_path) for arg in argv] + ["--url", "http://127.0.0.1:9/v1/"]

    code, _, err = run(argv, FakeSession())

    assert code == 2 and message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["conversations", "--delete"], "--delete goes with conversations/<id>"),
        (["conversations/c-1", "--limit", "2"], "--limit and --next-token go with conversations"),
        (["conversations", "--body", "x.json"], "conversations takes no body"),
        (["productivity/summarize", "--delete"], "--delete, --limit and --next-token go with conversations"),
        (["conversations/a/b"], "expected conversations or conversations/<conversationId>"),
    ],
)
def test_conversation_options_that_do_not_go_together_exit_2(argv, message):
    code, _, err = run([*argv, "--url", "http://127.0.0.1:9/"], FakeSession())

    assert code == 2 and message in err


def test_a_conversation_id_needs_a_json_object_body(tmp_path):
    body = tmp_path / "list.json"
    body.write_text("[1]")

    code, _, err = run(
        ["customer-experience/chat", "--body", str(body), "--conversation-id", "c", "--url", "http://127.0.0.1:9/"],
        FakeSession(),
    )

    assert code == 2 and "needs a JSON object body" in err
