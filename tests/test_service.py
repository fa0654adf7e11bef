"""genai_core/service.py: ``UseCaseService`` directly, not through the handler.

Bedrock is botocore's Stubber on real bedrock-runtime clients (it validates every request and response against the
service model); the invocation's time left is a fake clock that the fake model's calls advance. The end-to-end
behaviour through the Lambda handler is in test_handler.py and test_use_cases.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from genai_core import files
from genai_core.bedrock import make_client
from genai_core.catalog import UseCase, load_catalog
from genai_core.conversation_settings import STORE_CLIENT, ConversationSettings
from genai_core.conversations import Conversation
from genai_core.errors import (
    ConversationStoreError,
    DeadlineExceeded,
    GuardrailIntervened,
    ModelOutputInvalid,
    NotFound,
    PayloadTooLarge,
    UploadNotFound,
    UploadsNotConfigured,
    ValidationFailed,
)
from genai_core.limits import ANSWER_MARGIN_SECONDS, STORAGE_CLIENT, ClientSettings
from genai_core.service import UseCaseService, token_usage
from genai_core.settings import Guardrail, GuardrailSettings
from tests import file_samples
from tests.support import CDK_CONTEXT, ROOT, converse_text_response, converse_tool_response, retrieval_result

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


# --- model_for, guarded ----------------------------------------------------------------------------------------------


def guardrails_for(*families: str) -> GuardrailSettings:
    return GuardrailSettings({family: Guardrail(f"gr-{family}", "3") for family in families})


def test_each_use_case_gets_its_familys_model():
    service = UseCaseService(CATALOG, MODELS, make_client(SETTINGS))

    for use_case in CATALOG:
        assert service.model_for(use_case) == MODELS[use_case.family]


def test_a_family_without_a_model_is_refused_when_the_service_is_made():
    family = sorted(MODELS)[0]

    with pytest.raises(ValueError, match=f"no model configured for: {family}"):
        UseCaseService(CATALOG, {key: value for key, value in MODELS.items() if key != family}, make_client(SETTINGS))


@pytest.mark.parametrize("family", sorted(MODELS))
def test_only_the_families_of_the_guardrail_settings_are_guarded(family):
    service = UseCaseService(CATALOG, MODELS, make_client(SETTINGS), guardrail=guardrails_for(family))

    for use_case in CATALOG:
        assert service.guarded(use_case) is (use_case.family == family)
    assert not any(UseCaseService(CATALOG, MODELS, make_client(SETTINGS)).guarded(u) for u in CATALOG)


# --- build_request ---------------------------------------------------------------------------------------------------


def request_of(use_case_id: str) -> dict[str, Any]:
    return json.loads(example(use_case_id))


@pytest.mark.parametrize("use_case", sorted(CATALOG, key=lambda u: u.id), ids=lambda u: u.id)
def test_the_converse_request_has_the_model_the_prompt_and_the_catalogs_inference_settings(use_case):
    service = UseCaseService(CATALOG, MODELS, make_client(SETTINGS))
    request = request_of(use_case.id)

    converse = service.build_request(use_case, request)

    assert converse["modelId"] == MODELS[use_case.family]
    assert converse["system"][0]["text"] and converse["messages"][-1]["role"] == "user"
    assert converse["inferenceConfig"] == {
        "maxTokens": use_case.inference["maxTokens"],
        "temperature": float(use_case.inference["temperature"]),
    }
    assert "guardrailConfig" not in converse  # no guardrail settings: none
    if use_case.structured:  # the task's tool, forced, with the output schema resolved against the request
        (tool,) = converse["toolConfig"]["tools"]
        assert tool["toolSpec"]["name"] == use_case.tool_name
        assert tool["toolSpec"]["inputSchema"]["json"] == use_case.output_schema(request)
        assert converse["toolConfig"]["toolChoice"] == {"tool": {"name": use_case.tool_name}}
    else:
        assert "toolConfig" not in converse


def test_a_guarded_familys_request_carries_its_guardrail_and_its_caller_text_as_guard_content():
    use_case = CATALOG.get(SUMMARIZE)
    service = UseCaseService(CATALOG, MODELS, make_client(SETTINGS), guardrail=guardrails_for(use_case.family))

    converse = service.build_request(use_case, request_of(SUMMARIZE))

    assert converse["guardrailConfig"] == {
        "guardrailIdentifier": f"gr-{use_case.family}",
        "guardrailVersion": "3",
        "trace": "disabled",
    }
    assert "guardContent" in converse["messages"][0]["content"][0]


# --- run -----------------------------------------------------------------------------------------------------------------


@pytest.fixture
def stubbed() -> Iterator[Stubber]:
    """One client under a Stubber: every call must be expected, and every expected call made."""
    with Stubber(make_client(SETTINGS)) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def test_run_validates_calls_converse_and_shapes_the_result(stubbed):
    use_case = CATALOG.get(SUMMARIZE)
    service = UseCaseService(CATALOG, MODELS, stubbed.client, guardrail=guardrails_for(use_case.family))
    stubbed.add_response(
        "converse",
        converse_text_response("A summary.", tokens=(40, 9)),
        {
            "modelId": MODELS[use_case.family],
            "system": ANY,
            "messages": ANY,
            "inferenceConfig": ANY,
            "guardrailConfig": ANY,
        },
    )

    result = service.run(SUMMARIZE, example(SUMMARIZE))

    assert (result.use_case, result.model, result.stop_reason) == (SUMMARIZE, MODELS[use_case.family], "end_turn")
    assert result.output == {use_case.output["text"]: "A summary."}
    assert result.usage == {"inputTokens": 40, "outputTokens": 9, "totalTokens": 49}
    assert (result.attempts, result.guardrail_action, result.debug) == (1, "NONE", None)
    assert result.to_body() == {
        "useCase": SUMMARIZE,
        "output": {"summary": "A summary."},
        "model": MODELS[use_case.family],
        "usage": result.usage,
        "stopReason": "end_turn",
        "guardrail": {"action": "NONE"},
    }


def test_an_unknown_use_case_or_an_invalid_request_is_refused_before_any_call(stubbed):
    service = UseCaseService(CATALOG, MODELS, stubbed.client)

    with pytest.raises(NotFound):
        service.run("productivity/no-such-task", b"{}")
    with pytest.raises(ValidationFailed):
        service.run(SUMMARIZE, b'{"text": ""}')  # and the Stubber saw no call


def test_the_caller_is_taken_and_kept_out_of_the_result(stubbed):
    stubbed.add_response("converse", converse_text_response("A summary."))
    service = UseCaseService(CATALOG, MODELS, stubbed.client, log_prompts=True)

    result = service.run(SUMMARIZE, example(SUMMARIZE), caller="iam:arn:aws:iam::123456789012:user/alice")

    assert "alice" not in json.dumps([result.to_body(), result.debug])  # not even in the opt-in debug output


def test_prompt_logging_puts_the_request_and_the_output_in_the_debug_field(stubbed):
    stubbed.add_response("converse", converse_text_response("A summary."))
    service = UseCaseService(CATALOG, MODELS, stubbed.client, log_prompts=True)

    result = service.run(SUMMARIZE, example(SUMMARIZE))

    assert result.debug is not None and result.debug["output"] == {"summary": "A summary."}
    assert result.debug["request"]["modelId"] == MODELS[CATALOG.get(SUMMARIZE).family]


# --- the one retry of an invalid structured answer -----------------------------------------------------------------------


def test_an_invalid_answer_is_asked_for_once_more_with_the_reason_and_both_calls_count(stubbed):
    calls: list[dict[str, Any]] = []
    stubbed.client.meta.events.register(
        "provide-client-params.bedrock-runtime.Converse", lambda params, **_: calls.append(params)
    )
    first = converse_tool_response("record_extracted_fields", {"total": -1}, tokens=(300, 20))
    stubbed.add_response("converse", first)
    stubbed.add_response(
        "converse", converse_tool_response("record_extracted_fields", valid_extraction(), tokens=(340, 25))
    )
    service = UseCaseService(CATALOG, MODELS, stubbed.client)

    result = service.run(EXTRACT, example(EXTRACT))

    assert (result.output, result.attempts) == (valid_extraction(), 2)
    assert result.usage == {"inputTokens": 640, "outputTokens": 45, "totalTokens": 685}
    retry = calls[1]["messages"]
    assert retry[:-2] == calls[0]["messages"]  # the conversation goes on: the first answer, then the reason
    assert retry[-2] == {"role": "assistant", "content": first["output"]["message"]["content"]}
    (reply,) = retry[-1]["content"]
    assert reply["toolResult"]["toolUseId"] == "tooluse_0001"
    assert reply["toolResult"]["content"][0]["text"].startswith("Rejected. ")


def test_a_second_invalid_answer_is_the_callers_502(stubbed):
    for _ in range(2):
        stubbed.add_response("converse", converse_tool_response("record_extracted_fields", {"total": -1}))

    with pytest.raises(ModelOutputInvalid, match="does not match the output schema"):
        UseCaseService(CATALOG, MODELS, stubbed.client).run(EXTRACT, example(EXTRACT))


def test_a_text_task_without_text_is_not_retried(stubbed):
    stubbed.add_response("converse", converse_text_response(""))

    with pytest.raises(ModelOutputInvalid, match="returned no text"):
        UseCaseService(CATALOG, MODELS, stubbed.client).run(SUMMARIZE, example(SUMMARIZE))


def test_a_guardrail_intervention_on_a_structured_task_is_not_an_answer(stubbed):
    stubbed.add_response("converse", converse_text_response("Blocked.", stop_reason="guardrail_intervened"))
    service = UseCaseService(CATALOG, MODELS, stubbed.client, guardrail=guardrails_for("process-optimization"))

    with pytest.raises(GuardrailIntervened, match=r"^Blocked"):
        service.run(EXTRACT, example(EXTRACT))


# --- files: checked before any model call, uploads read within the time left --------------------------------------


@dataclass
class FakeStore:
    """An uploads store (``service.UploadStore``) that serves one caller's uploads from a dict, counting reads."""

    uploads: dict[tuple[str, str], Any]
    s3_location: bool = False
    read_worst_case_seconds: float = STORAGE_CLIENT.worst_case_seconds
    reads: list[str] = field(default_factory=list)

    def fetch(self, owner: str | None, upload_id: str) -> Any:
        self.reads.append(upload_id)
        if (str(owner), upload_id) not in self.uploads:
            raise UploadNotFound(f"no upload {upload_id}")
        return self.uploads[(str(owner), upload_id)]


def pdf_item(**extra: Any) -> dict[str, Any]:
    return {"name": "a.pdf", "format": "pdf", **extra}


def test_a_request_without_files_loads_no_files_module_and_asks_no_store(stubbed, monkeypatch):
    import sys

    asked = []
    service = UseCaseService(CATALOG, MODELS, stubbed.client, uploads=lambda: asked.append(1))
    stubbed.add_response("converse", converse_text_response("ok"))
    monkeypatch.delitem(sys.modules, "genai_core.files", raising=False)

    service.run(SUMMARIZE, example(SUMMARIZE))

    assert "genai_core.files" not in sys.modules and asked == []  # loaded on the first request with files only


def test_inline_files_ask_no_store_and_reach_converse_with_their_names(stubbed):
    asked = []
    service = UseCaseService(CATALOG, MODELS, stubbed.client, uploads=lambda: asked.append(1), log_prompts=True)
    stubbed.add_response("converse", converse_text_response("ok"))
    data = base64.b64encode(file_samples.pdf()).decode()

    result = service.run(SUMMARIZE, json.dumps({"files": [pdf_item(data=data)]}).encode())

    assert asked == []
    assert (result.file_formats, result.file_bytes) == (("pdf",), len(file_samples.pdf()))
    document = result.debug["request"]["messages"][0]["content"][0]["document"]
    assert document == {
        "format": "pdf",
        "name": "Document 1",
        "source": {"bytes": f"<{len(file_samples.pdf())} bytes, not logged>"},
    }


def test_an_upload_is_read_for_the_caller_and_a_store_that_is_none_refuses_it(stubbed):
    upload_id = files.new_upload_id(1_900_000_000)
    stored = files.Upload(file_samples.pdf(), "application/pdf", f"s3://b/uploads/x/{upload_id}")
    store = FakeStore({("iam:alice", upload_id): stored})
    service = UseCaseService(CATALOG, MODELS, stubbed.client, uploads=lambda: store)
    body = json.dumps({"files": [pdf_item(uploadId=upload_id)]}).encode()
    stubbed.add_response("converse", converse_text_response("ok"))

    assert service.run(SUMMARIZE, body, caller="iam:alice").file_bytes == len(stored.data)
    with pytest.raises(UploadNotFound):  # Bob's request finds nothing under his own name, and calls no model
        service.run(SUMMARIZE, body, caller="iam:bob")
    assert store.reads == [upload_id, upload_id]
    without = UseCaseService(CATALOG, MODELS, stubbed.client, uploads=lambda: None)
    with pytest.raises(UploadsNotConfigured):
        without.run(SUMMARIZE, body, caller="iam:alice")


def test_s3_location_sends_the_uri_not_the_bytes(stubbed, monkeypatch):
    upload_id = files.new_upload_id(1_900_000_000)
    uri = f"s3://genai-uploads-1/uploads/x/{upload_id}"
    store = FakeStore({("o", upload_id): files.Upload(file_samples.png(), "image/png", uri)}, s3_location=True)
    service = UseCaseService(CATALOG, MODELS, stubbed.client, uploads=lambda: store)
    stubbed.add_response(
        "converse",
        converse_text_response("ok"),
        {
            "modelId": ANY,
            "system": ANY,
            "inferenceConfig": ANY,
            "messages": [
                {
                    "role": "user",
                    "content": [{"image": {"format": "png", "source": {"s3Location": {"uri": uri}}}}, {"text": ANY}],
                }
            ],
        },
    )

    service.run(
        SUMMARIZE,
        json.dumps({"files": [{"name": "p.png", "format": "png", "uploadId": upload_id}]}).encode(),
        caller="o",
    )


@pytest.mark.parametrize(
    ("seconds_left", "reads"),
    [
        (STORAGE_CLIENT.worst_case_seconds + ONE_ATTEMPT + 0.1, 1),  # a read and one attempt fit
        (STORAGE_CLIENT.worst_case_seconds + ONE_ATTEMPT - 0.1, 0),  # not both: 504 before the read
    ],
)
def test_an_upload_is_read_only_while_a_read_and_one_model_attempt_still_fit(clients, seconds_left, reads):
    upload_id = files.new_upload_id(1_900_000_000)
    store = FakeStore({("o", upload_id): files.Upload(file_samples.pdf(), "application/pdf", "s3://b/k")})
    clock = Clock(seconds_left)
    service = clients.service(clock)
    service.uploads = lambda: store
    body = json.dumps({"files": [pdf_item(uploadId=upload_id)]}).encode()
    if reads:
        clients.single.add_response("converse", converse_text_response("ok"))  # time left for one attempt only
        service.run(SUMMARIZE, body, time_left=clock, caller="o")
    else:
        with pytest.raises(DeadlineExceeded, match="read the request's uploads"):
            service.run(SUMMARIZE, body, time_left=clock, caller="o")
    assert len(store.reads) == reads


def test_a_body_of_a_task_that_takes_files_may_be_larger_only_by_its_files_data(stubbed):
    service = UseCaseService(CATALOG, MODELS, stubbed.client)
    data = base64.b64encode(b"x" * 300_000).decode()  # txt: past the 256 KiB every other body is held to

    assert service.validate(
        CATALOG.get(SUMMARIZE), json.dumps({"files": [{"name": "a", "format": "txt", "data": data}]}).encode()
    )
    with pytest.raises(PayloadTooLarge, match="without its files' data"):
        service.validate(
            CATALOG.get(SUMMARIZE),
            json.dumps(
                {
                    "text": "x",
                    "files": [{"name": "n" * 255, "format": "txt", "data": "QUJD"}],
                    "style": "bullets",
                    "pad": "p" * 300_000,
                }
            ).encode(),
        )
    with pytest.raises(PayloadTooLarge, match="the limit is 262144 bytes"):  # a task without files: as before
        service.validate(CATALOG.get(EXTRACT), json.dumps({"document": "x" * 300_000, "fields": {}}).encode())


# --- a task that searches the knowledge base first ---------------------------------------------------------------------

SEARCH = "productivity/search"
KB_ID = "KBSVC00001"
RESULTS = [
    retrieval_result("As férias podem ser divididas em até três períodos.", "s3://corpus/politica-de-ferias.md", 0.72),
    retrieval_result("Pedido no portal Ipê Pessoas, 30 dias antes.", "s3://corpus/politica-de-ferias.md", 0.55),
]


@dataclass
class Searching:
    """A service with a knowledge base: its bedrock-runtime and bedrock-agent-runtime clients each under a Stubber."""

    service: UseCaseService
    bedrock: Stubber
    knowledge_base: Stubber
    clock: Clock

    def expect_search(self, results: list[dict[str, Any]], **search: Any) -> None:
        expected = {"knowledgeBaseId": KB_ID, "retrievalQuery": ANY, "retrievalConfiguration": ANY, **search}
        self.knowledge_base.add_response("retrieve", {"retrievalResults": results}, expected)

    def run(self, body: dict[str, Any]) -> Any:
        return self.service.run(SEARCH, json.dumps(body).encode(), time_left=self.clock)


@pytest.fixture
def searching(clients: Clients) -> Iterator[Searching]:
    clock = Clock(600.0)
    service = UseCaseService(
        CATALOG,
        MODELS,
        clients.multi.client,
        client_settings=SETTINGS,
        single_attempt_client=lambda: clients.single.client,
        around_model_call=clock.around_model_call,
        knowledge_base_id=KB_ID,
        region="us-east-1",
    )
    with Stubber(service.knowledge_base.client) as knowledge_base:
        yield Searching(service, clients.multi, knowledge_base, clock)
        knowledge_base.assert_no_pending_responses()


def search_answer(citations: list[str], answer: str = "Em até três períodos.") -> dict[str, Any]:
    return converse_tool_response("record_answer", {"answer": answer, "citations": citations})


def test_the_passages_found_are_the_only_ones_the_model_may_cite_and_come_back_with_their_source(searching):
    use_case = CATALOG.get(SEARCH)
    searching.expect_search(
        RESULTS,
        retrievalQuery={"text": "Em quantos períodos posso dividir minhas férias?"},
        retrievalConfiguration={"vectorSearchConfiguration": {"numberOfResults": use_case.retrieval.default_results}},
    )
    sent: list[dict[str, Any]] = []
    searching.bedrock.client.meta.events.register(
        "provide-client-params.bedrock-runtime.Converse", lambda params, **_: sent.append(params)
    )
    searching.bedrock.add_response("converse", search_answer(["p1"]))

    result = searching.run({"question": "Em quantos períodos posso dividir minhas férias?"})

    (tool,) = sent[0]["toolConfig"]["tools"]
    assert tool["toolSpec"]["inputSchema"]["json"]["properties"]["citations"]["items"]["enum"] == ["p1", "p2"]
    assert result.output == {
        "answer": "Em até três períodos.",
        "citations": [
            {
                "id": "p1",
                "source": "s3://corpus/politica-de-ferias.md",
                "passage": "As férias podem ser divididas em até três períodos.",
            }
        ],
        "answerable": True,
    }
    assert (result.retrieved.passages, result.attempts) == (2, 1)


def test_an_answer_that_cites_nothing_is_not_answerable(searching):
    searching.expect_search(RESULTS)
    searching.bedrock.add_response("converse", search_answer([], "Os trechos não dizem."))

    result = searching.run({"question": "Quanto custa a Urbana E1?"})

    assert result.output == {"answer": "Os trechos não dizem.", "citations": [], "answerable": False}


@pytest.mark.parametrize(
    ("language", "key"),
    [(None, "default"), ("pt-BR", "pt"), ("Português", "pt"), ("English", "en"), ("de", "default")],
)
def test_when_nothing_is_found_no_model_is_called_and_the_answer_says_so(searching, language, key):
    searching.expect_search([])  # and no Converse response queued: a model call would fail the test

    body = {"question": "Qual é o preço das ações?", **({"language": language} if language else {})}
    result = searching.run(body)

    nothing = CATALOG.get(SEARCH).retrieval.nothing_retrieved[key]
    assert result.output == {**nothing, "answerable": False}
    assert (result.stop_reason, result.attempts, result.usage["totalTokens"]) == ("nothing_retrieved", 0, 0)
    assert result.guardrail_action is None  # no model call, so no guardrail claimed


def test_a_follow_up_searches_the_last_user_turns_with_the_question_and_reads_the_turns_as_data(searching):
    history = [
        {"role": "user", "content": "Quero tirar férias em julho."},
        {"role": "assistant", "content": "Certo! Em que posso ajudar?"},
        {"role": "user", "content": "Preciso avisar com quanto tempo?"},
        {"role": "assistant", "content": "Com 30 dias de antecedência."},
        {"role": "user", "content": "E posso dividir?"},
    ]
    searching.expect_search(
        RESULTS,
        retrievalQuery={"text": "Preciso avisar com quanto tempo?\nE posso dividir?\nEm quantos períodos?"},
        retrievalConfiguration={"vectorSearchConfiguration": {"numberOfResults": 2}},
    )
    searching.bedrock.add_response("converse", search_answer(["p1"]))

    result = searching.run({"question": "Em quantos períodos?", "history": history, "maxResults": 2})

    assert result.output["answerable"] is True


def test_the_callers_filter_is_checked_before_anything_is_searched_and_then_sent_as_given(searching):
    with pytest.raises(ValidationFailed, match="does not support startsWith"):
        searching.run({"question": "q", "filter": {"startsWith": {"key": "kind", "value": "pol"}}})
    with pytest.raises(ValidationFailed, match="language must be"):  # a bad language, before the search too
        searching.run({"question": "q", "language": "not a language"})

    given = {
        "andAll": [{"equals": {"key": "language", "value": "pt-BR"}}, {"in": {"key": "kind", "value": ["policy"]}}]
    }
    searching.expect_search(
        [], retrievalConfiguration={"vectorSearchConfiguration": {"numberOfResults": 5, "filter": given}}
    )
    assert searching.run({"question": "q", "filter": given}).stop_reason == "nothing_retrieved"


def test_the_search_takes_its_time_from_what_the_model_call_has_left(searching, clients):
    # Before the search every attempt would fit; the search takes 2 s, after which only one does.
    searching.clock.left = EVERY_ATTEMPT + 1.0
    searching.service.knowledge_base.client.meta.events.register(
        "provide-client-params.bedrock-agent-runtime.Retrieve",
        lambda **_: setattr(searching.clock, "left", searching.clock.left - 2),
    )
    searching.expect_search(RESULTS)
    clients.single.add_response("converse", search_answer(["p2"]))

    result = searching.run({"question": "Como peço férias?"})

    assert result.output["citations"][0]["id"] == "p2"


def test_without_a_knowledge_base_the_task_is_not_served():
    service = UseCaseService(CATALOG.served(knowledge_base=False), MODELS, make_client(SETTINGS))
    assert service.catalog.get(SEARCH) is None

    with pytest.raises(NotFound):
        service.run(SEARCH, b'{"question": "q"}')
    with pytest.raises(NotFound, match="no knowledge base"):
        service.knowledge_base  # noqa: B018


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
