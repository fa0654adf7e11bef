"""A local stand-in for the deployed API, for the tools that call it (``make smoke``, ``tools.client``): an HTTP
server on 127.0.0.1 that recomputes each request's SigV4 signature with the test credentials and answers like the
API only to a correctly signed request on one of its routes; in authMode=api-key (``FakeApi.api_key`` set) it
checks the ``x-api-key`` header instead, as API Gateway does. Its fixtures are in conftest.py (``fake_api``,
``cloudformation``, ``apigateway``)."""

from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from endpoints import DISCOVERY_PATH, UPLOADS_PATH
from genai_core.catalog import load_catalog
from genai_core.file_contract import MEDIA_TYPES
from tests.support import API_STACK, MODEL_ID

CREDENTIALS = Credentials("AKIDSMOKETEST", "smoke-secret", "smoke-session-token")
REGION = "us-east-1"
STACK = API_STACK  # the stand-in's stack: the API stack of cdk.json's stackName, make smoke's default
AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=AKIDSMOKETEST/(?P<date>\d{8})/us-east-1/execute-api/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)
ROUTES = {route.path for route in load_catalog()} | {UPLOADS_PATH}
S3_PATH = "/s3-presigned/"  # where the stand-in's POST /uploads points its PUT (in place of the bucket's address)
DISCOVERY = DISCOVERY_PATH
API_KEY_ID = "k3y1d0"
API_KEY = "fake-api-key-value-0123456789abcdefghij"


class FakeApi(BaseHTTPRequestHandler):
    """Answers like the deployed API, but only to a correctly signed POST on a route of the catalog (or GET on
    /use-cases, GET and DELETE on /conversations/<id>). ``answers`` overrides the answer of a route; ``seen``
    records every request; ``conversations`` holds the messages of each conversation remembered (by id)."""

    answers: ClassVar[dict[str, tuple[int, dict[str, Any]]]] = {}  # shared by the server's handler instances
    seen: ClassVar[list[dict[str, Any]]] = []
    api_key: ClassVar[str | None] = None  # authMode=api-key: the key every request must carry (monkeypatch it)
    uploads: ClassVar[dict[str, tuple[int, str]]] = {}  # uploadId -> the size and type its PUT was presigned for
    stored: ClassVar[dict[str, bytes]] = {}  # uploadId -> what was PUT
    conversations: ClassVar[dict[str, int]] = {}  # conversation id -> how many messages are stored

    def do_POST(self) -> None:
        self.serve(ROUTES)

    def do_GET(self) -> None:
        self.serve({DISCOVERY, *self.conversation_route()})

    def do_DELETE(self) -> None:
        self.serve(set(self.conversation_route()))

    def conversation_route(self) -> list[str]:
        route = self.path.removeprefix("/v1").split("?", 1)[0]
        listing = route == "/conversations" and self.command == "GET"
        return [route] if listing or (route.startswith("/conversations/") and route.count("/") == 2) else []

    def do_PUT(self) -> None:
        """The presigned PUT, as S3 checks it: no signature header (the URL is the authorization), and exactly the
        Content-Length and Content-Type that POST /uploads signed."""
        upload_id = self.path.removeprefix(S3_PATH).split("?", 1)[0]
        declared = self.uploads.get(upload_id)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.seen.append(
            {
                "method": "PUT",
                "route": self.path,
                "body": None,
                "size": len(body),
                "problem": None,
                "signed": "Authorization" in self.headers,
            }
        )
        if declared is None or (len(body), self.headers.get("Content-Type")) != declared:
            self.reply(403, {"Code": "SignatureDoesNotMatch"})
        else:
            self.stored[upload_id] = body
            self.reply(200, {})

    def serve(self, routes: set[str]) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        route = self.path.removeprefix("/v1").split("?", 1)[0]
        problem = self.api_key_problem() if self.api_key is not None else self.signature_problem(body)
        self.seen.append(
            {
                "method": self.command,
                "route": route,
                "query": self.path.partition("?")[2],
                "body": json.loads(body) if body else None,
                "problem": problem,
                "signed": "Authorization" in self.headers,
            }
        )
        if problem == "Forbidden":
            self.reply(403, {"message": "Forbidden"})  # API Gateway's answer to a missing or unknown API key
        elif problem:
            self.reply(403, {"message": problem})
        elif route not in routes:
            self.reply(
                403, {"error": {"code": "MISSING_AUTHENTICATION_TOKEN", "message": "Missing Authentication Token"}}
            )
        elif route == UPLOADS_PATH and route not in self.answers:
            self.reply(200, self.presign(json.loads(body)))
        elif route in self.answers:
            self.reply(*self.answers[route])
        else:
            self.reply(*self.conversation_answer(route, json.loads(body) if body else None))

    def conversation_answer(self, route: str, body: Any) -> tuple[int, dict[str, Any]]:
        """What the API answers, keeping conversations as the function would (one owner: the test's caller)."""
        if route == "/conversations":
            return 200, {
                "conversations": [{"conversationId": key, "turns": n} for key, n in self.conversations.items()]
            }
        if not route.startswith("/conversations/"):
            answer = success(route)
            if isinstance(body, dict) and "conversationId" in body:
                conversation_id = body["conversationId"]
                self.conversations[conversation_id] = self.conversations.get(conversation_id, 0) + 2
                answer.update(conversationId=conversation_id, remembered=True)
            return 200, answer
        conversation_id = route.rsplit("/", 1)[1]
        if conversation_id not in self.conversations:
            return 404, {"error": {"code": "conversation_not_found", "message": "There is no conversation."}}
        if self.command == "DELETE":
            del self.conversations[conversation_id]
            return 200, {"conversationId": conversation_id, "deleted": True}
        return 200, {"conversationId": conversation_id, "turns": self.conversations[conversation_id], "messages": []}

    def presign(self, request: dict[str, Any]) -> dict[str, Any]:
        upload_id = f"1900000000-{len(self.uploads):032x}"
        media_type = MEDIA_TYPES[request["format"]]
        self.uploads[upload_id] = (request["size"], media_type)
        return {
            "uploadId": upload_id,
            "url": f"http://{self.headers['Host']}{S3_PATH}{upload_id}?X-Amz-Signature=stand-in",
            "method": "PUT",
            "headers": {"Content-Type": media_type},
            "expiresAt": "2030-01-01T00:05:00Z",
        }

    def api_key_problem(self) -> str | None:
        return None if self.headers.get("x-api-key") == self.api_key else "Forbidden"

    def signature_problem(self, body: bytes) -> str | None:
        match = AUTHORIZATION.match(self.headers.get("Authorization", ""))
        if not match:
            return f"not a SigV4 execute-api authorization: {self.headers.get('Authorization')!r}"
        signed = match["signed"].split(";")
        if not {"host", "x-amz-date", "x-amz-security-token"} <= set(signed):
            return f"signed headers miss host, x-amz-date or the session token: {signed}"
        if not self.headers["X-Amz-Date"].startswith(match["date"]):
            return "the credential scope's date is not the request's"
        # Recompute the signature over what arrived, with the same credentials, region, service and time.
        request = AWSRequest(
            method=self.command,
            url=f"http://{self.headers['Host']}{self.path}",
            data=body,
            headers={name: self.headers[name] for name in signed},
        )
        request.context["timestamp"] = self.headers["X-Amz-Date"]
        auth = SigV4Auth(CREDENTIALS, "execute-api", REGION)
        expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
        return None if expected == match["signature"] else "signature mismatch"

    def reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:  # keep the test output clean
        pass


def success(route: str) -> dict[str, Any]:
    if route == DISCOVERY:
        return {"families": [{"family": "productivity", "useCases": [{"path": "/productivity/summarize"}]}]}
    return {
        "useCase": route.lstrip("/"),
        "output": {},
        "model": MODEL_ID,
        "usage": {"inputTokens": 120, "outputTokens": 20, "totalTokens": 140},
        "stopReason": "end_turn",
    }
