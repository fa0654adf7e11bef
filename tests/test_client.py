"""`python -m tools.client`, offline: the API's URL comes from a Stubber'd CloudFormation client and the requests go
to the SigV4-checking stand-in of the API on 127.0.0.1 (tests/sigv4_api.py, the one `make smoke` is tested
against), which recomputes every signature. The client against the real local server is in test_local_api.py.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from tests.sigv4_api import CREDENTIALS, REGION, FakeApi, success
from tools import client
from tools.smoke import EXAMPLES


class FakeSession:
    """What the client asks of a boto3 session: credentials, a region, a CloudFormation client."""

    region_name = REGION

    def __init__(self, cloudformation: Any = None, credentials: Any = CREDENTIALS) -> None:
        self.cloudformation = cloudformation
        self.credentials = credentials

    def get_credentials(self) -> Any:
        return self.credentials

    def client(self, name: str) -> Any:
        assert name == "cloudformation"
        return self.cloudformation


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

    assert (target.region, target.credentials) == ("sa-east-1", CREDENTIALS.get_frozen_credentials())


def test_local_needs_no_credentials_and_takes_its_port_from_port_or_the_flag(monkeypatch):
    monkeypatch.setenv("PORT", "3999")
    namespace = client.argparse.Namespace(local=True, url=None, port=None, stack_name="x")

    assert client.resolve_target(namespace, FakeSession(credentials=None)) == client.Target(
        "http://127.0.0.1:3999/", None, REGION
    )
    namespace.port = 4001
    assert client.resolve_target(namespace, FakeSession()).base_url == "http://127.0.0.1:4001/"
    with pytest.raises(SystemExit):
        client.main(["use-cases", "--port", "4001"], session=FakeSession())  # --port goes with --local


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
