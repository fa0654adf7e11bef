"""genai_core/service.py: ``UseCaseService`` directly, not through the handler.

Bedrock is botocore's Stubber on real bedrock-runtime clients (it validates every request and response against the
service model); the invocation's time left is a fake clock that the fake model's calls advance. The end-to-end
behaviour through the Lambda handler is in test_handler.py and test_use_cases.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.stub import Stubber

from genai_core.bedrock import make_client
from genai_core.catalog import UseCase, load_catalog
from genai_core.conversation_settings import STORE_CLIENT, ConversationSettings
from genai_core.conversations import Conversation
from genai_core.errors import ConversationStoreError, DeadlineExceeded, ModelOutputInvalid
from genai_core.limits import ANSWER_MARGIN_SECONDS, ClientSettings
from genai_core.service import UseCaseService, token_usage
from tests.support import CDK_CONTEXT, ROOT, converse_text_response, converse_tool_response

CATALOG = load_catalog()
MODELS = CDK_CONTEXT["models"]
# The client of cdk.json's defaults (the handler's comes from the same values through the environment).
SETTINGS = ClientSettings(
    connect_timeout=CDK_CONTEXT["bedrockConnectTimeoutSeconds"],
    read_timeout=CDK_CONTEXT["bedrockReadTimeoutSeconds"],
    max_attempts=CDK_CONTEXT["bedrockMaxAttempts"],
    region="us-east-1",
)
SUMMARIZE = "productivity/summarize"
EXTRACT = "process-optimization/extract"


def example(use_case_id: str) -> bytes:
    return (ROOT / "examples" / f"{use_case_id}.json").read_bytes()


def valid_extraction() -> dict[str, Any]:
    """An answer of the extract example that its resolved output schema accepts."""
    return {"invoiceNumber": "000.123.456", "issueDate": "2026-11-03", "total": 1250, "currency": "BRL"}


@dataclass
class Clock:
    """The invocation's time left (``time_left`` for ``run``): it counts down by ``call_seconds`` during each model
    call, entered around the call as an entry point's tracing would be (``around_model_call``)."""

    left: float
    call_seconds: float = 0.0

    def __call__(self) -> float:
        return self.left

    @contextmanager
    def around_model_call(self, use_case: UseCase, model: str) -> Iterator[None]:
        yield
        self.left -= self.call_seconds


@dataclass
class Clients:
    """The service's two clients, each under its own Stubber: a call to one with nothing queued fails the test."""

    multi: Stubber
    single: Stubber
    single_made: list[int] = field(default_factory=list)  # one item per single_attempt_client() call

    def service(
        self,
        clock: Clock,
        *,
        reserve_seconds: float = 0.0,
        settings: ClientSettings = SETTINGS,
        conversations: ConversationSettings | None = None,
    ) -> Any:
        def single_attempt_client() -> Any:
            self.single_made.append(1)
            return self.single.client

        return UseCaseService(
            CATALOG,
            MODELS,
            self.multi.client,
            client_settings=settings,
            single_attempt_client=single_attempt_client,
            reserve_seconds=reserve_seconds,
            around_model_call=clock.around_model_call,
            conversations=conversations,
        )


@pytest.fixture
def clients() -> Iterator[Clients]:
    multi, single = make_client(SETTINGS), make_client(SETTINGS.single_attempt())
    with Stubber(multi) as multi_stub, Stubber(single) as single_stub:
        yield Clients(multi_stub, single_stub)
        multi_stub.assert_no_pending_responses()
        single_stub.assert_no_pending_responses()


# The time a fresh call needs for every attempt of the client, or one, with the answer's margin (and a reserve).
EVERY_ATTEMPT = SETTINGS.worst_case_seconds + ANSWER_MARGIN_SECONDS
ONE_ATTEMPT = SETTINGS.attempt_seconds + ANSWER_MARGIN_SECONDS


# --- the client for each model call, by the time left ----------------------------------------------------------------


def test_with_time_for_every_attempt_the_call_goes_through_the_multi_attempt_client(clients):
    clients.multi.add_response("converse", converse_text_response("A summary."))
    clock = Clock(EVERY_ATTEMPT + 0.01)

    result = clients.service(clock).run(SUMMARIZE, example(SUMMARIZE), time_left=clock)

    assert result.output == {"summary": "A summary."}
    assert clients.single_made == []  # the single-attempt client is made on first use only


def test_with_time_for_one_attempt_only_the_call_goes_through_the_single_attempt_client(clients):
    clients.single.add_response("converse", converse_text_response("A summary."))
    clock = Clock(EVERY_ATTEMPT)  # exactly every attempt's worst case: nothing left to answer with

    result = clients.service(clock).run(SUMMARIZE, example(SUMMARIZE), time_left=clock)

    assert result.output == {"summary": "A summary."}
    assert clients.single_made == [1]


def test_without_time_for_one_attempt_no_call_is_made_and_the_caller_gets_a_504(clients):
    clock = Clock(ONE_ATTEMPT)

    with pytest.raises(DeadlineExceeded) as raised:
        clients.service(clock).run(SUMMARIZE, example(SUMMARIZE), time_left=clock)

    assert (raised.value.status, raised.value.code) == (504, "deadline_exceeded")
    assert "retry" in raised.value.message and "invalid" not in raised.value.message  # no blame on the request
    assert clients.single_made == []  # and neither Stubber saw a call


@pytest.mark.parametrize(
    ("seconds_left", "reserve", "client"),
    [
        (EVERY_ATTEMPT + 0.01, 0.0, "multi"),
        (EVERY_ATTEMPT + 0.01, 0.02, "single"),  # the reserve for work after the call counts
        (EVERY_ATTEMPT + 5, 5.0, "single"),
        (EVERY_ATTEMPT + 5.01, 5.0, "multi"),
        (ONE_ATTEMPT + 3.01, 3.0, "single"),
        (ONE_ATTEMPT + 3, 3.0, None),
    ],
)
def test_the_reserve_for_work_after_the_call_is_kept_free(clients, seconds_left, reserve, client):
    if client is not None:
        getattr(clients, client).add_response("converse", converse_text_response("A summary."))
    service = clients.service(Clock(seconds_left), reserve_seconds=reserve)

    if client is None:
        with pytest.raises(DeadlineExceeded):
            service.run(SUMMARIZE, example(SUMMARIZE), time_left=Clock(seconds_left))
    else:
        assert service.run(SUMMARIZE, example(SUMMARIZE), time_left=Clock(seconds_left)).output


def test_without_a_deadline_every_attempt_is_allowed(clients):
    clients.multi.add_response("converse", converse_text_response("A summary."))

    assert clients.service(Clock(0)).run(SUMMARIZE, example(SUMMARIZE), time_left=None).output


def test_a_client_of_one_attempt_is_used_as_it_is(clients):
    clients.multi.add_response("converse", converse_text_response("A summary."))
    single = SETTINGS.single_attempt()
    clock = Clock(single.attempt_seconds + ANSWER_MARGIN_SECONDS + 0.01)

    assert clients.service(clock, settings=single).run(SUMMARIZE, example(SUMMARIZE), time_left=clock).output
    assert clients.single_made == []  # its own client is already a single attempt


def test_without_client_settings_the_worst_case_is_unknown_and_the_client_is_always_used(clients):
    clients.multi.add_response("converse", converse_text_response("A summary."))
    service = UseCaseService(CATALOG, MODELS, clients.multi.client)

    assert service.run(SUMMARIZE, example(SUMMARIZE), time_left=Clock(0)).output


# --- the output retry chooses its client too ---------------------------------------------------------------------------


def test_the_retry_of_an_invalid_answer_takes_the_client_that_the_time_left_allows(clients):
    # The first answer breaks the schema; the first call took 1 s, after which one attempt fits but not every one.
    clock = Clock(EVERY_ATTEMPT + 0.5, call_seconds=1.0)
    clients.multi.add_response("converse", converse_tool_response("record_extracted_fields", {"total": -1}))
    clients.single.add_response("converse", converse_tool_response("record_extracted_fields", valid_extraction()))

    result = clients.service(clock).run(EXTRACT, example(EXTRACT), time_left=clock)

    assert (result.output, result.attempts) == (valid_extraction(), 2)
    assert clock.left == EVERY_ATTEMPT + 0.5 - 2.0


def test_a_retry_with_time_for_every_attempt_goes_through_the_multi_attempt_client(clients):
    clock = Clock(EVERY_ATTEMPT + 10, call_seconds=1.0)
    clients.multi.add_response("converse", converse_tool_response("record_extracted_fields", {"total": -1}))
    clients.multi.add_response("converse", converse_tool_response("record_extracted_fields", valid_extraction()))

    assert clients.service(clock).run(EXTRACT, example(EXTRACT), time_left=clock).attempts == 2
    assert clients.single_made == []


def test_without_time_for_the_retry_the_first_answers_own_error_is_kept(clients):
    # After the first call, not even one attempt fits: no retry, and the caller learns why the answer failed.
    clock = Clock(ONE_ATTEMPT + 0.5, call_seconds=1.0)
    clients.single.add_response("converse", converse_tool_response("record_extracted_fields", {"total": -1}))

    with pytest.raises(ModelOutputInvalid) as raised:
        clients.service(clock).run(EXTRACT, example(EXTRACT), time_left=clock)

    assert (raised.value.status, raised.value.code) == (502, "model_output_invalid")
    assert "does not match the output schema" in raised.value.message  # the answer's problem, not a deadline


# --- a remembered turn (its store on a moto table: test_conversations.py tests the store itself) ---------------------

CHAT = "customer-experience/chat"
OWNER = "iam:arn:aws:sts::123456789012:assumed-role/Developers/alice"
TABLE = "conversations"
REMEMBERED = b'{"conversationId": "c-1", "messages": [{"role": "user", "content": "Oi"}]}'
STATELESS = b'{"messages": [{"role": "user", "content": "Oi"}]}'
STORE_WORST = STORE_CLIENT.worst_case_seconds


@pytest.fixture
def table() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    from tests.conversations_support import create_table, table_properties, table_template

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE, table_properties(table_template()))
        yield client


def remembering(clients: Clients, clock: Clock) -> Any:
    return clients.service(clock, conversations=ConversationSettings(TABLE, client=STORE_CLIENT))


@pytest.mark.parametrize(
    ("seconds_left", "client"),
    [
        (EVERY_ATTEMPT + STORE_WORST + 0.01, "multi"),
        (EVERY_ATTEMPT + 0.01, "single"),  # enough for every attempt of a stateless request, not with the write
        (ONE_ATTEMPT + STORE_WORST + 0.01, "single"),
        (ONE_ATTEMPT + STORE_WORST, None),  # no call: 504, and nothing stored
    ],
)
def test_a_remembered_turn_keeps_its_writes_worst_case_free_when_it_chooses_the_client(
    clients, table, seconds_left, client
):
    if client is not None:
        getattr(clients, client).add_response("converse", converse_text_response("Olá!"))
    service = remembering(clients, Clock(seconds_left))

    if client is None:
        with pytest.raises(DeadlineExceeded):
            service.run(CHAT, REMEMBERED, time_left=Clock(seconds_left), caller=OWNER)
        assert table.scan(TableName=TABLE)["Items"] == []
    else:
        result = service.run(CHAT, REMEMBERED, time_left=Clock(seconds_left), caller=OWNER)
        assert (result.memory.conversation_id, result.memory.remembered) == ("c-1", True)
        assert len(table.scan(TableName=TABLE)["Items"]) == 1


def test_a_stateless_request_keeps_no_reserve(clients):
    clients.multi.add_response("converse", converse_text_response("Olá!"))
    clock = Clock(EVERY_ATTEMPT + 0.01)

    result = remembering(clients, clock).run(CHAT, STATELESS, time_left=clock, caller=OWNER)

    assert result.memory is None and clients.single_made == []


def test_a_write_that_fails_after_the_model_answered_carries_the_models_usage(clients, monkeypatch):
    clients.multi.add_response("converse", converse_text_response("Olá!", tokens=(40, 9)))
    service = remembering(clients, Clock(100))
    store = service.conversation_store

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise ConversationStoreError("unavailable", upstream="ServiceUnavailable", code="x", status=503)

    monkeypatch.setattr(store, "load", lambda owner, conversation_id: Conversation(conversation_id))  # a new one
    monkeypatch.setattr(store, "append", unavailable)

    with pytest.raises(ConversationStoreError) as raised:
        service.run(CHAT, REMEMBERED, time_left=Clock(100), caller=OWNER)

    assert raised.value.usage == {"inputTokens": 40, "outputTokens": 9, "totalTokens": 49}


def test_the_usage_of_several_calls_is_summed_and_the_cache_counts_appear_only_when_reported():
    plain = {"inputTokens": 5, "outputTokens": 7, "totalTokens": 12}
    cached = {**plain, "cacheReadInputTokens": 2048, "cacheWriteInputTokens": 0}

    assert token_usage([plain]) == plain
    assert token_usage([plain, plain]) == {"inputTokens": 10, "outputTokens": 14, "totalTokens": 24}
    assert token_usage([plain, cached]) == {
        "inputTokens": 10,
        "outputTokens": 14,
        "totalTokens": 24,
        "cacheReadInputTokens": 2048,
        "cacheWriteInputTokens": 0,
    }
    assert token_usage([]) == {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0}
