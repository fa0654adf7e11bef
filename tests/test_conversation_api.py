"""Server-side conversations end to end: the real Lambda handler and the streaming adapter, with real-shaped events in
both authorization modes, a DynamoDB table in moto (created from the construct's synthesized definition) and Bedrock
faked with botocore's Stubber (buffered) or the stream fake of test_streaming.py (streamed).

The store's own behaviour (trimming, TTL, races, every fault) is tested in test_conversations.py; here: what a caller
sees on each route, that no caller ever reaches another's conversation (404 on every route; a chat with another's
id starts the caller's own), what is stored when (nothing when the model fails or the guardrail intervenes; a turn
whose write fails is the caller's error), and what the logs and metrics say (never an id or a text).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from genai_core import conversations, sse
from genai_core.conversation_settings import STORE_CLIENT
from tests.conversations_support import Clock, create_table, installed_stores, table_properties, table_template
from tests.support import (
    API_KEY_IDENTITY,
    IAM_IDENTITY,
    MODEL_ID,
    TEST_CONVERSATIONS_TABLE,
    converse_text_response,
    guardrail_config,
)
from tests.test_streaming import FakeStream, events

CHAT = "/customer-experience/chat"
STREAM = f"{CHAT}/stream"
REGION = "us-east-1"
GUARDRAIL_CONFIG = guardrail_config("customer-experience")
CANARY_ID = "conv-CANARY-5e1b"  # an id and a text that must never reach a log line
CANARY_TEXT = "CANARY-TEXT-77c4 my card is 4111"
# Callers of each mode: two IAM principals (assumed-role sessions) and two API keys.
BOB_IDENTITY = {**IAM_IDENTITY, "userArn": "arn:aws:sts::123456789012:assumed-role/Developers/bob"}
OTHER_KEY_IDENTITY = {"apiKey": "An0therS3cretApiKeyValue0123456789abcdef", "apiKeyId": "z9y8x7w6v5"}
CALLERS = {"iam": (IAM_IDENTITY, BOB_IDENTITY), "api-key": (API_KEY_IDENTITY, OTHER_KEY_IDENTITY)}


@pytest.fixture(scope="module")
def stream_app() -> ModuleType:
    return importlib.import_module("stream_app")


@pytest.fixture(scope="module")
def table_definition() -> dict[str, Any]:
    return table_properties(table_template())


@dataclass
class Table:
    """The moto table the two functions' stores use, those stores, and their clock (it moves when told to)."""

    client: Any
    stores: list[conversations.ConversationStore]
    clock: Clock

    def items(self) -> list[dict[str, Any]]:
        return list(self.client.scan(TableName=TEST_CONVERSATIONS_TABLE)["Items"])


@pytest.fixture(scope="module")
def moto_aws() -> Iterator[None]:
    """moto's in-process AWS, started once for the module (starting and stopping it costs ~0.13 s of CPU)."""
    with mock_aws():
        yield


@pytest.fixture
def table(
    moto_aws: None, handler: ModuleType, stream_app: ModuleType, table_definition: dict[str, Any]
) -> Iterator[Table]:
    """A new table for each test, shaped as the stack's, which both functions' stores use."""
    client = boto3.client("dynamodb", region_name=REGION)
    create_table(client, TEST_CONVERSATIONS_TABLE, table_definition)
    with installed_stores([handler.service, stream_app.service]) as stores:
        clock = Clock()
        for store in stores:
            store._clock = clock
        yield Table(client, stores, clock)
    client.delete_table(TableName=TEST_CONVERSATIONS_TABLE)


@pytest.fixture(params=sorted(CALLERS))
def mode(request: pytest.FixtureRequest, handler: ModuleType, stream_app: ModuleType, monkeypatch: Any) -> str:
    """Each authorization mode, as the stack sets it (AUTH_MODE), for both functions."""
    monkeypatch.setattr(handler, "auth_mode", request.param)
    monkeypatch.setattr(stream_app, "auth_mode", request.param)
    return str(request.param)


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def turn_messages(*pairs: tuple[str, str], new: str) -> list[dict[str, Any]]:
    """The Converse messages of a remembered turn: the stored exchanges, then the new user message."""
    messages: list[dict[str, Any]] = []
    for question, answer in pairs:
        messages += [
            {"role": "user", "content": [{"text": question}]},
            {"role": "assistant", "content": [{"text": answer}]},
        ]
    return [*messages, {"role": "user", "content": [{"text": new}]}]


def expect_chat(
    bedrock: Stubber, reply: str, messages: list[dict[str, Any]], *, model: str = MODEL_ID, **response: Any
) -> None:
    from botocore.stub import ANY

    params = {
        "modelId": model,
        "system": ANY,
        "messages": messages,
        "inferenceConfig": ANY,
        "guardrailConfig": GUARDRAIL_CONFIG,
    }
    bedrock.add_response("converse", converse_text_response(reply, **response), params)


def chat(call: Callable[..., Any], text: str, conversation_id: str | None, identity: Any = IAM_IDENTITY) -> Any:
    body: dict[str, Any] = {"messages": [user(text)]}
    if conversation_id is not None:
        body["conversationId"] = conversation_id
    return call(CHAT, body, identity=identity)


def on_conversation(call: Callable[..., Any], method: str, conversation_id: str, identity: Any) -> Any:
    """A request on /conversations/{conversationId}, as API Gateway sends it (the resource and its path parameter)."""
    return call(
        f"/conversations/{conversation_id}",
        method=method,
        identity=identity,
        resource="/conversations/{conversationId}",
        path_parameters={"conversationId": conversation_id},
    )


def get(call: Callable[..., Any], conversation_id: str, identity: Any = IAM_IDENTITY) -> Any:
    return on_conversation(call, "GET", conversation_id, identity)


def delete(call: Callable[..., Any], conversation_id: str, identity: Any = IAM_IDENTITY) -> Any:
    return on_conversation(call, "DELETE", conversation_id, identity)


def listing(call: Callable[..., Any], identity: Any = IAM_IDENTITY, **query: str) -> Any:
    return call("/conversations", method="GET", identity=identity, query=query or None)


# --- a remembered conversation, buffered --------------------------------------------------------------------------


def test_a_remembered_turn_sends_the_stored_history_before_the_new_message_and_stores_both(call, bedrock, table, mode):
    alice, _ = CALLERS[mode]
    expect_chat(bedrock, "Olá! Qual é o número do pedido?", turn_messages(new="Meu pedido não chegou."))
    expect_chat(
        bedrock,
        "Vou verificar o pedido 48213.",
        turn_messages(("Meu pedido não chegou.", "Olá! Qual é o número do pedido?"), new="É o 48213."),
    )

    first = chat(call, "Meu pedido não chegou.", "c-1", alice)
    second = chat(call, "É o 48213.", "c-1", alice)

    for response in (first, second):
        assert response.status == 200, response.body
        assert (response.body["conversationId"], response.body["remembered"]) == ("c-1", True)
    assert second.body["output"] == {"reply": "Vou verificar o pedido 48213."}
    stored = get(call, "c-1", alice)
    assert stored.status == 200
    assert stored.body["conversationId"] == "c-1" and stored.body["turns"] == 4
    assert stored.body["messages"] == [
        user("Meu pedido não chegou."),
        {"role": "assistant", "content": "Olá! Qual é o número do pedido?"},
        user("É o 48213."),
        {"role": "assistant", "content": "Vou verificar o pedido 48213."},
    ]
    (item,) = table.items()
    owner = alice["userArn" if mode == "iam" else "apiKeyId"]
    assert owner not in json.dumps(item)  # only its hash is stored


def test_without_a_conversation_id_chat_stays_stateless_and_never_touches_the_table(
    call, bedrock, table, converse_calls
):
    expect_chat(bedrock, "Hi!", turn_messages(new="Hello"))

    response = chat(call, "Hello", None)

    assert response.status == 200
    assert "conversationId" not in response.body and "remembered" not in response.body
    assert table.items() == []
    assert all(store._client is None for store in table.stores)  # no DynamoDB client was even made


def test_the_new_messages_are_checked_alone_and_errors_name_the_requests_own_indices(call, bedrock, table):
    expect_chat(bedrock, "ok", turn_messages(new="hi"))
    assert chat(call, "hi", "c-1").status == 200  # two stored messages now go before the new ones
    body = {"conversationId": "c-1", "messages": [user("a"), user("b")]}

    response = call(CHAT, body, identity=IAM_IDENTITY)

    assert response.status == 400
    assert response.body["error"]["message"] == 'messages[1].role must alternate between "user" and "assistant".'


def test_a_turn_may_bring_several_new_messages_and_all_are_stored(call, bedrock, table):
    new = [user("Oi"), {"role": "assistant", "content": "(resposta de um atendente)"}, user("E agora?")]
    expect_chat(
        bedrock,
        "Certo.",
        [
            {"role": "user", "content": [{"text": "Oi"}]},
            {"role": "assistant", "content": [{"text": "(resposta de um atendente)"}]},
            {"role": "user", "content": [{"text": "E agora?"}]},
        ],
    )

    assert call(CHAT, {"conversationId": "c-1", "messages": new}, identity=IAM_IDENTITY).status == 200
    assert get(call, "c-1").body["turns"] == 4


@pytest.mark.parametrize("bad", ["", "has space", "a" * 65, "ümlaut", "dot.dot", "../x"])
def test_a_conversation_id_outside_the_pattern_is_a_400_before_the_table_or_the_model(call, bedrock, table, bad):
    response = chat(call, "Hi", bad)

    assert response.status == 400 and response.body["error"]["code"] == "validation_error"
    assert all(store._client is None for store in table.stores)


def test_without_an_authenticated_caller_nothing_is_read_stored_or_asked_of_the_model(call, bedrock, table):
    response = chat(call, "Hi", "c-1", identity={})  # the sample event: no identity (the function invoked directly)

    assert response.status == 500
    assert response.body["error"]["code"] == "caller_identity_missing"
    assert all(store._client is None for store in table.stores)


def test_with_conversations_off_a_conversation_id_is_a_400_that_says_what_to_send(call, bedrock, handler, monkeypatch):
    monkeypatch.setattr(handler.service, "conversations", None)
    monkeypatch.delitem(handler.service.__dict__, "conversation_store", raising=False)

    response = chat(call, "Hi", "c-1")

    assert response.status == 400
    assert response.body["error"]["code"] == "conversations_disabled"
    assert "without conversationId" in response.body["error"]["message"]


# --- what is stored when ------------------------------------------------------------------------------------------


def test_a_model_failure_stores_nothing(call, bedrock, table):
    bedrock.add_client_error("converse", "ThrottlingException", "Too many requests", 429)

    response = chat(call, "Hi", "c-1")

    assert response.status == 429 and response.body["error"]["code"] == "throttled"
    assert table.items() == []


def test_a_turn_the_guardrail_intervened_in_is_answered_but_not_stored(call, bedrock, table):
    expect_chat(
        bedrock, "Sorry, I can't help with that.", turn_messages(new=CANARY_TEXT), stop_reason="guardrail_intervened"
    )

    response = chat(call, CANARY_TEXT, "c-1")

    assert response.status == 200
    assert (response.body["remembered"], response.body["guardrail"]) == (False, {"action": "INTERVENED"})
    assert table.items() == []
    assert get(call, "c-1").status == 404


def test_the_next_turn_after_an_intervention_sends_only_what_was_stored(call, bedrock, table):
    expect_chat(bedrock, "Oi!", turn_messages(new="Oi"))
    expect_chat(bedrock, "Blocked.", turn_messages(("Oi", "Oi!"), new="bad"), stop_reason="guardrail_intervened")
    expect_chat(bedrock, "Claro.", turn_messages(("Oi", "Oi!"), new="Ajuda?"))

    for text in ("Oi", "bad", "Ajuda?"):
        assert chat(call, text, "c-1").status == 200
    assert [m["content"] for m in get(call, "c-1").body["messages"]] == ["Oi", "Oi!", "Ajuda?", "Claro."]


@pytest.fixture
def failing_store(handler: ModuleType) -> Iterator[Stubber]:
    """The handler's store on a real DynamoDB client under a Stubber (moto cannot throttle or fail)."""
    client = conversations.make_client(STORE_CLIENT, validate=True)
    with Stubber(client) as stubber, installed_stores([handler.service], client_factory=lambda: client):
        yield stubber
        stubber.assert_no_pending_responses()


def test_a_turn_whose_write_fails_after_the_model_answered_is_the_callers_error(call, bedrock, failing_store, emf):
    failing_store.add_response("get_item", {})
    failing_store.add_client_error("put_item", "ThrottlingException", "Rate exceeded", 400)
    expect_chat(bedrock, "A reply that could not be stored.", turn_messages(new="Hi"), tokens=(31, 12))

    response = chat(call, "Hi", "c-1")

    assert response.status == 429  # a 200 means remembered: this turn was not
    assert response.body["error"]["code"] == "conversation_store_throttled"
    assert response.headers["Retry-After"] == "1"
    documents = emf()
    metrics = {name for document in documents for name in document if not name.startswith("_")}
    assert "ConversationStoreErrors" in metrics and "ModelErrors" not in metrics
    (per_request,) = [d for d in documents if "Requests" in d]
    assert (per_request["InputTokens"], per_request["OutputTokens"]) == ([31.0], [12.0])  # spent, so counted
    (by_code,) = [d for d in documents if d.get("ErrorCode")]
    assert by_code["ErrorCode"] == "conversation_store_throttled" and by_code["ConversationStoreErrors"] == [1.0]


def test_a_failure_to_load_the_conversation_is_answered_before_any_model_call(call, bedrock, failing_store, emf):
    failing_store.add_client_error("get_item", "InternalServerError", "Internal error", 500)

    response = chat(call, "Hi", "c-1")

    assert (response.status, response.body["error"]["code"]) == (503, "conversation_store_unavailable")
    assert "ConversationStoreErrors" in {name for document in emf() for name in document}
    # and the Stubber on Bedrock had nothing queued: no model call was made


# --- no caller reaches another's conversation ----------------------------------------------------------------------


def test_another_callers_conversation_is_a_404_on_every_route_and_a_chat_with_its_id_starts_the_callers_own(
    call, bedrock, table, mode
):
    alice, bob = CALLERS[mode]
    expect_chat(bedrock, "Alice's answer", turn_messages(new="Alice's secret"))
    assert chat(call, "Alice's secret", "shared-id", alice).status == 200

    for response in (get(call, "shared-id", bob), delete(call, "shared-id", bob)):
        assert response.status == 404 and response.body["error"]["code"] == "conversation_not_found"
    assert listing(call, bob).body == {"conversations": []}
    # Bob's chat with the same id: the model sees none of Alice's history, and Bob gets a conversation of his own.
    expect_chat(bedrock, "Bob's answer", turn_messages(new="Bob's question"))
    response = chat(call, "Bob's question", "shared-id", bob)
    assert (response.status, response.body["conversationId"]) == (200, "shared-id")

    assert [m["content"] for m in get(call, "shared-id", alice).body["messages"]] == [
        "Alice's secret",
        "Alice's answer",
    ]
    assert [m["content"] for m in get(call, "shared-id", bob).body["messages"]] == ["Bob's question", "Bob's answer"]
    assert len(table.items()) == 2
    assert delete(call, "shared-id", bob).status == 200
    assert get(call, "shared-id", alice).status == 200  # Bob's delete erased his own only


def test_the_other_modes_identity_is_no_caller(call, bedrock, table, mode):
    """A key does not stand in for a signature, nor the reverse: the request has no owner, and nothing is read."""
    other = CALLERS["api-key" if mode == "iam" else "iam"][0]

    for response in (chat(call, "Hi", "c-1", other), get(call, "c-1", other), listing(call, other)):
        assert (response.status, response.body["error"]["code"]) == (500, "caller_identity_missing")


# --- the conversation routes ----------------------------------------------------------------------------------------


def remembered(call: Callable[..., Any], bedrock: Stubber, conversation_id: str, identity: Any = IAM_IDENTITY) -> None:
    expect_chat(bedrock, "ok", turn_messages(new="hi"))
    assert chat(call, "hi", conversation_id, identity).status == 200


def test_the_list_is_the_callers_newest_first_paginated_with_no_messages(call, bedrock, table, mode):
    alice, _ = CALLERS[mode]
    for conversation_id in ("first", "second", "third"):
        remembered(call, bedrock, conversation_id, alice)
        table.clock.advance(1)

    page = listing(call, alice, limit="2")
    assert page.status == 200
    assert [c["conversationId"] for c in page.body["conversations"]] == ["third", "second"]
    assert all(set(c) == {"conversationId", "createdAt", "updatedAt", "turns"} for c in page.body["conversations"])
    rest = listing(call, alice, limit="2", nextToken=page.body["nextToken"])
    assert [c["conversationId"] for c in rest.body["conversations"]] == ["first"]
    assert "nextToken" not in rest.body


@pytest.mark.parametrize(
    "query",
    [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"limit": "-1"}, {"limit": "1.5"}, {"nextToken": "forged"}],
)
def test_a_bad_page_size_or_token_is_a_400(call, table, query):
    response = listing(call, **query)

    assert (response.status, response.body["error"]["code"]) == (400, "validation_error")


def test_delete_erases_the_conversation_and_a_second_delete_or_get_is_a_404(call, bedrock, table):
    remembered(call, bedrock, "c-1")

    response = delete(call, "c-1")

    assert (response.status, response.body) == (200, {"conversationId": "c-1", "deleted": True})
    assert table.items() == []
    for again in (delete(call, "c-1"), get(call, "c-1")):
        assert (again.status, again.body["error"]["code"]) == (404, "conversation_not_found")


def test_a_bad_id_on_a_conversation_route_is_a_400(call, table):
    for response in (get(call, "a.b"), delete(call, "x" * 65)):
        assert (response.status, response.body["error"]["code"]) == (400, "validation_error")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/conversations", "GET"),
        ("DELETE", "/conversations", "GET"),
        ("POST", "/conversations/c-1", "GET, DELETE"),
        ("PUT", "/conversations/c-1", "GET, DELETE"),
    ],
)
def test_a_wrong_method_on_a_conversation_route_is_a_405_that_says_what_is_allowed(call, table, method, path, allowed):
    response = call(path, {} if method in ("POST", "PUT") else None, method=method, identity=IAM_IDENTITY)

    assert (response.status, response.headers["Allow"]) == (405, allowed)


def test_a_path_below_a_conversation_is_no_route(call, table):
    response = call("/conversations/c-1/messages", method="GET", identity=IAM_IDENTITY)

    assert (response.status, response.body["error"]["code"]) == (404, "not_found")


# --- logs and metrics -------------------------------------------------------------------------------------------------


def test_no_conversation_id_message_or_caller_reaches_the_logs_on_any_route(call, bedrock, table, logs, mode):
    alice, _ = CALLERS[mode]
    expect_chat(bedrock, f"reply to {CANARY_TEXT}", turn_messages(new=CANARY_TEXT))

    assert chat(call, CANARY_TEXT, CANARY_ID, alice).status == 200
    assert get(call, CANARY_ID, alice).status == 200
    assert listing(call, alice).status == 200
    assert delete(call, CANARY_ID, alice).status == 200
    assert get(call, CANARY_ID, alice).status == 404

    lines = logs()
    logged = json.dumps(lines)
    who = [alice[key] for key in ("userArn", "caller", "accessKey", "apiKey", "apiKeyId") if key in alice]
    for secret in (CANARY_ID, CANARY_TEXT, "CANARY", *who):
        assert secret not in logged
    (completed,) = [line for line in lines if line["message"] == "use case completed"]
    assert (completed["remembered"], completed["history_messages"]) == (True, 0)
    routes = [line for line in lines if line["message"] == "conversation request completed"]
    assert [line["operation"] for line in routes] == ["get", "list", "delete"]
    assert (routes[0]["messages"], routes[1]["conversations"], routes[2]["deleted"]) == (2, 1, True)


def test_on_a_cacheable_model_a_point_follows_the_history_and_the_cached_tokens_are_reported(
    call, bedrock, table, handler, monkeypatch, emf
):
    cacheable = "us.amazon.nova-pro-v1:0"
    assert "amazon.nova-pro-v1:0" in handler.service.conversations.prompt_cache_models
    monkeypatch.setitem(handler.service.models, "customer-experience", cacheable)
    expect_chat(bedrock, "first", turn_messages(new="one"), model=cacheable)
    history = turn_messages(("one", "first"), new="two")
    history[1]["content"].append({"cachePoint": {"type": "default"}})  # after the last stored message
    answer = converse_text_response("second")
    answer["usage"].update(cacheReadInputTokens=2048, cacheWriteInputTokens=0)
    from botocore.stub import ANY

    assert chat(call, "one", "c-1").status == 200
    emf()
    bedrock.add_response(
        "converse",
        answer,
        {
            "modelId": cacheable,
            "system": ANY,
            "messages": history,
            "inferenceConfig": ANY,
            "guardrailConfig": GUARDRAIL_CONFIG,
        },
    )
    response = chat(call, "two", "c-1")

    assert response.status == 200
    assert response.body["usage"]["cacheReadInputTokens"] == 2048
    assert response.body["usage"]["cacheWriteInputTokens"] == 0
    (document,) = [d for d in emf() if "Requests" in d]
    assert (document["CacheReadInputTokens"], document["CacheWriteInputTokens"]) == ([2048.0], [0.0])


def test_on_the_default_model_no_cache_point_is_sent_and_the_usage_has_its_three_counts(
    call, bedrock, table, converse_calls
):
    remembered(call, bedrock, "c-1")
    expect_chat(bedrock, "again", turn_messages(("hi", "ok"), new="more"))

    response = chat(call, "more", "c-1")

    assert "cachePoint" not in json.dumps(converse_calls)
    assert set(response.body["usage"]) == {"inputTokens", "outputTokens", "totalTokens"}


# --- streamed -----------------------------------------------------------------------------------------------------


@pytest.fixture
def bedrock_stream(stream_app: ModuleType, monkeypatch: pytest.MonkeyPatch) -> FakeStream:
    fake = FakeStream()
    monkeypatch.setattr(stream_app.bedrock_client, "converse_stream", fake)
    return fake


def stream(app: ModuleType, body: dict[str, Any], identity: Any) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
    context = json.dumps({"requestId": "req-1", "identity": identity})
    response = app.handle("POST", STREAM, json.dumps(body).encode(), request_contexts=[context])
    return response.status, sse.parse(b"".join(response.chunks))


def test_a_streamed_turn_is_stored_after_the_stream_and_the_final_event_says_so(
    stream_app, bedrock_stream, table, call, mode
):
    alice, _ = CALLERS[mode]
    bedrock_stream.answer = events("Olá! ", "Como posso ajudar?")

    status, parsed = stream(stream_app, {"conversationId": "c-1", "messages": [user("Oi")]}, alice)

    assert status == 200
    assert [name for name, _ in parsed] == ["delta", "delta", "done"]
    assert (parsed[-1][1]["conversationId"], parsed[-1][1]["remembered"]) == ("c-1", True)
    # The next turn, streamed too, sends the history; the buffered function reads the same conversation.
    bedrock_stream.answer = events("Claro.")
    assert stream(stream_app, {"conversationId": "c-1", "messages": [user("E agora?")]}, alice)[0] == 200
    assert bedrock_stream.requests[1]["messages"] == turn_messages(("Oi", "Olá! Como posso ajudar?"), new="E agora?")
    stored = get(call, "c-1", alice).body["messages"]
    assert [m["content"] for m in stored] == ["Oi", "Olá! Como posso ajudar?", "E agora?", "Claro."]


def test_a_stream_whose_turn_cannot_be_stored_ends_with_an_error_event_after_its_deltas(
    stream_app, bedrock_stream, monkeypatch
):
    client = conversations.make_client(STORE_CLIENT, validate=True)
    bedrock_stream.answer = events("Olá!")
    with Stubber(client) as stubber, installed_stores([stream_app.service], client_factory=lambda: client):
        stubber.add_response("get_item", {})
        stubber.add_client_error("put_item", "ServiceUnavailable", "unavailable", 503)
        status, parsed = stream(stream_app, {"conversationId": "c-1", "messages": [user("Oi")]}, IAM_IDENTITY)
        stubber.assert_no_pending_responses()

    assert status == 200  # the status was sent with the first delta
    assert parsed == [
        ("delta", {"text": "Olá!"}),
        ("error", {"error": {"code": "conversation_store_unavailable", "message": conversations.UNAVAILABLE.message}}),
    ]


def test_a_stream_that_fails_or_that_the_client_leaves_stores_nothing(stream_app, bedrock_stream, table):
    from tests.test_streaming import stream_error

    bedrock_stream.answer = [*events("Olá!")[:2], stream_error("modelStreamErrorException")]
    status, parsed = stream(stream_app, {"conversationId": "c-1", "messages": [user("Oi")]}, IAM_IDENTITY)
    assert (status, parsed[-1][0]) == (200, "error")

    bedrock_stream.answer = events("Olá! ", "Tudo bem?")
    context = json.dumps({"requestId": "req-2", "identity": IAM_IDENTITY})
    body = json.dumps({"conversationId": "c-1", "messages": [user("Oi")]}).encode()
    response = stream_app.handle("POST", STREAM, body, request_contexts=[context])
    frames = iter(response.chunks)
    next(frames)  # the first delta is sent, then the client goes away
    frames.close()  # type: ignore[attr-defined]

    assert table.items() == []


def test_a_streamed_turn_the_guardrail_intervened_in_is_not_stored(stream_app, bedrock_stream, table):
    bedrock_stream.answer = events("Sorry.", stop_reason="guardrail_intervened")

    _, parsed = stream(stream_app, {"conversationId": "c-1", "messages": [user(CANARY_TEXT)]}, IAM_IDENTITY)

    assert parsed[-1][1]["remembered"] is False
    assert table.items() == []


def test_a_streamed_turn_with_another_callers_id_starts_the_callers_own(stream_app, bedrock_stream, table, call, mode):
    alice, bob = CALLERS[mode]
    bedrock_stream.answer = events("For Alice.")
    stream(stream_app, {"conversationId": "shared", "messages": [user("Alice here")]}, alice)
    bedrock_stream.answer = events("For Bob.")

    stream(stream_app, {"conversationId": "shared", "messages": [user("Bob here")]}, bob)

    assert bedrock_stream.requests[1]["messages"] == turn_messages(new="Bob here")
    assert len(table.items()) == 2


def test_the_stream_loads_before_the_model_is_called_and_a_load_failure_is_a_plain_json_error(
    stream_app, bedrock_stream
):
    client = conversations.make_client(STORE_CLIENT, validate=True)
    with Stubber(client) as stubber, installed_stores([stream_app.service], client_factory=lambda: client):
        stubber.add_client_error("get_item", "ProvisionedThroughputExceededException", "slow down", 400)
        context = json.dumps({"requestId": "req-1", "identity": IAM_IDENTITY})
        body = json.dumps({"conversationId": "c-1", "messages": [user("Oi")]}).encode()
        response = stream_app.handle("POST", STREAM, body, request_contexts=[context])

    assert (response.status, response.streamed) == (429, False)
    assert json.loads(b"".join(response.chunks))["error"]["code"] == "conversation_store_throttled"
    assert bedrock_stream.requests == []


# --- the cold start -----------------------------------------------------------------------------------------------------


def test_the_handlers_init_loads_neither_the_store_nor_caching_nor_a_dynamodb_client():
    """The conversation store's module (boto3's DynamoDB model with it) and its client load on the first remembered
    turn: a cold start with conversations on costs what it did without them (make bench measures it)."""
    import os
    import subprocess
    import sys

    from tests.support import FUNCTION_ENV, ROOT

    code = (
        "import sys; import handler; "
        "print(sorted(name for name in ('genai_core.conversations', 'genai_core.caching', 'genai_core.streaming') "
        "if name in sys.modules)); "
        "print(handler.service.conversations is not None, 'conversation_store' in vars(handler.service))"
    )
    environment = {**os.environ, **FUNCTION_ENV, "PYTHONPATH": str(ROOT / "lambda" / "genai_api")}
    result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)

    assert result.stdout.split("\n")[:2] == ["[]", "True False"]
