"""genai_core/retrieval.py: the knowledge base's client, Retrieve, the passages it returns and its fault map.

Retrieve is faked with botocore's Stubber on a real bedrock-agent-runtime client (it validates every request and
response against the service model); transport and credential failures, which come from below the client, replace
the call itself. The fault map is checked against every error shape of botocore's service model, and against the
table of docs/api.md.
"""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
from botocore.exceptions import (
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.loaders import Loader
from botocore.stub import Stubber
from botocore.validate import validate_parameters

from genai_core import retrieval
from genai_core.errors import ApiError, Throttled, UpstreamError, ValidationFailed
from genai_core.limits import RETRIEVAL_CLIENT, search_and_one_attempt
from genai_core.retrieval import (
    FAULTS,
    MAX_PASSAGE_CHARS,
    MAX_QUERY_CHARS,
    RETRIEVE_ERRORS,
    KnowledgeBase,
    Passage,
    passages_of,
    retrieve_error,
    retrieve_request,
)
from tests.support import FUNCTION_ENV, ROOT, retrieval_result
from tools.fake_bedrock import FAKE_SOURCE, corpus_chunks, fake_retrieve

KB_ID = "KBUNIT0001"
FILTER = {"equals": {"key": "language", "value": "pt-BR"}}


def exception_shapes() -> dict[str, dict[str, Any]]:
    """Every error shape of botocore's service-2.json for bedrock-agent-runtime (every operation's), by name."""
    shapes = Loader().load_service_model("bedrock-agent-runtime", "service-2")["shapes"]
    return {name: shape for name, shape in shapes.items() if shape.get("exception")}


SHAPES = exception_shapes()
# The documented contract (docs/api.md, "Errors met at the knowledge base"): error code -> (status, code), for a
# search without a filter of the caller's. A decision, pinned here and in docs/api.md.
DOCUMENTED = {
    "ThrottlingException": (429, "throttled"),
    "ServiceQuotaExceededException": (429, "quota_exceeded"),
    "AccessDeniedException": (502, "knowledge_base_access_denied"),
    "ResourceNotFoundException": (502, "knowledge_base_not_found"),
    "ConflictException": (503, "knowledge_base_busy"),
    "DependencyFailedException": (502, "knowledge_base_dependency_failed"),
    "ModelNotReadyException": (503, "model_not_ready"),
    "InternalServerException": (502, "retrieval_failed"),
    "BadGatewayException": (502, "retrieval_failed"),
    "ValidationException": (502, "knowledge_base_configuration_error"),
}


@pytest.fixture
def knowledge_base() -> Any:
    """A KnowledgeBase whose real client answers through a Stubber (and fails the test on a call it did not expect)."""
    found = KnowledgeBase(KB_ID, RETRIEVAL_CLIENT._replace(region="us-east-1"))
    with Stubber(found.client) as stubber:
        yield found, stubber
        stubber.assert_no_pending_responses()


# --- the client -------------------------------------------------------------------------------------------------


def test_the_client_is_made_on_the_first_search_with_short_timeouts_and_its_own_retries():
    found = KnowledgeBase(KB_ID, RETRIEVAL_CLIENT._replace(region="eu-west-1"))
    assert "client" not in vars(found)  # nothing made yet

    client = found.client
    assert found.client is client  # once
    assert client.meta.service_model.service_name == "bedrock-agent-runtime"
    assert client.meta.region_name == "eu-west-1"
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (
        RETRIEVAL_CLIENT.connect_timeout,
        RETRIEVAL_CLIENT.read_timeout,
    )
    assert config.retries == {"total_max_attempts": RETRIEVAL_CLIENT.max_attempts, "mode": "standard"}


def test_after_a_search_at_its_worst_one_model_attempt_still_fits_in_the_functions_timeout():
    from stacks.config import load_config
    from tests.test_config import context_values

    config = load_config(context_values())
    assert config.knowledge_base.enabled
    assert search_and_one_attempt(config.bedrock) < config.function.timeout_seconds


def test_the_handler_loads_neither_this_module_nor_its_client_at_init():
    """The cold start budget holds with the knowledge base on: the module and the client come with the first search."""
    code = (
        "import sys, handler\n"
        "print(sorted(m for m in ('genai_core.retrieval', 'genai_core.filters', 'genai_core.languages') if m in sys.modules))\n"
        "print('knowledge_base' in vars(handler.service))\n"
        "print(handler.service.knowledge_base_id)\n"
    )
    env = {**FUNCTION_ENV, "AWS_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true", "PATH": "/usr/bin:/bin"}
    env.update(
        {"PYTHONPATH": str(ROOT / "lambda" / "genai_api"), "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    modules, knowledge_base_made, knowledge_base_id = result.stdout.splitlines()
    assert modules == "[]"
    assert knowledge_base_id == FUNCTION_ENV["KNOWLEDGE_BASE_ID"]  # configured, yet nothing of it loaded
    assert knowledge_base_made == "False"


# --- Retrieve: the request and the passages ------------------------------------------------------------------------


def test_retrieve_sends_the_query_the_number_of_results_and_the_callers_filter(knowledge_base):
    found, stubber = knowledge_base
    expected = {
        "knowledgeBaseId": KB_ID,
        "retrievalQuery": {"text": "Qual é a garantia da bateria?"},
        "retrievalConfiguration": {"vectorSearchConfiguration": {"numberOfResults": 3, "filter": FILTER}},
    }
    stubber.add_response(
        "retrieve",
        {"retrievalResults": [retrieval_result("Bateria: 2 anos ou 500 ciclos.", "s3://corpus/faq-clientes.md")]},
        expected,
    )

    passages = found.retrieve("Qual é a garantia da bateria?", results=3, caller_filter=FILTER)

    assert passages == [Passage("p1", "s3://corpus/faq-clientes.md", "Bateria: 2 anos ou 500 ciclos.", 0.61)]


def test_without_a_filter_none_is_sent(knowledge_base):
    found, stubber = knowledge_base
    expected = {
        "knowledgeBaseId": KB_ID,
        "retrievalQuery": {"text": "q"},
        "retrievalConfiguration": {"vectorSearchConfiguration": {"numberOfResults": 5}},
    }
    stubber.add_response("retrieve", {"retrievalResults": []}, expected)

    assert found.retrieve("q", results=5) == []


def test_a_query_over_retrieves_limit_keeps_its_end_where_the_question_is():
    query = "x" * MAX_QUERY_CHARS + "\nWhat is the warranty?"
    sent = retrieve_request(KB_ID, query, results=5)["retrievalQuery"]["text"]

    assert len(sent) == MAX_QUERY_CHARS and sent.endswith("\nWhat is the warranty?")


def test_passages_are_numbered_in_order_and_those_that_cannot_be_read_or_cited_are_left_out():
    results = [
        retrieval_result("first", "s3://corpus/a.md", 0.9),
        {"content": {"type": "TEXT", "text": "no location"}, "score": 0.8},  # no source to cite
        retrieval_result("   ", "s3://corpus/b.md", 0.7),  # no text to read
        {"content": {"type": "IMAGE"}, "location": {"type": "S3", "s3Location": {"uri": "s3://corpus/c.png"}}},
        {
            "content": {"type": "TEXT", "text": "from a web page"},
            "location": {"type": "WEB", "webLocation": {"url": "https://example.com/faq"}},
        },
        {
            "content": {"type": "TEXT", "text": "t" * (MAX_PASSAGE_CHARS + 10)},
            "metadata": {"x-amz-bedrock-kb-source-uri": "s3://corpus/d.md"},
        },
    ]

    passages = passages_of({"retrievalResults": results})

    assert [(p.id, p.source) for p in passages] == [
        ("p1", "s3://corpus/a.md"),
        ("p2", "https://example.com/faq"),
        ("p3", "s3://corpus/d.md"),
    ]
    assert len(passages[2].text) == MAX_PASSAGE_CHARS
    assert passages[0].shown() == {"id": "p1", "source": "s3://corpus/a.md", "text": "first"}
    assert passages[0].citation() == {"id": "p1", "source": "s3://corpus/a.md", "passage": "first"}


# --- the fault map ---------------------------------------------------------------------------------------------------


def test_every_error_shape_of_the_service_model_is_mapped():
    assert set(RETRIEVE_ERRORS) == set(SHAPES)
    assert set(DOCUMENTED) == set(SHAPES)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_each_retrieve_error_gets_its_documented_status_and_code(knowledge_base, name):
    found, stubber = knowledge_base
    http = SHAPES[name].get("error", {}).get("httpStatusCode", 400)
    stubber.add_client_error(
        "retrieve", service_error_code=name, service_message="upstream said no", http_status_code=http
    )

    with pytest.raises(ApiError) as raised:
        found.retrieve("q", results=5)

    assert (raised.value.status, raised.value.code) == DOCUMENTED[name]
    assert "upstream said no" not in raised.value.message  # the service's words stay out, but for the caller's filter
    if raised.value.status == 429:
        assert isinstance(raised.value, Throttled)
        assert raised.value.headers == ({"Retry-After": "2"} if raised.value.code == "throttled" else {})
    else:
        assert isinstance(raised.value, UpstreamError) and raised.value.upstream == name


def test_a_validation_error_on_the_callers_filter_is_the_callers_400_with_bedrocks_reason(knowledge_base):
    found, stubber = knowledge_base
    reason = "Invalid filter: the value of key year must be a number."
    stubber.add_client_error("retrieve", service_error_code="ValidationException", service_message=reason)

    with pytest.raises(ValidationFailed) as raised:
        found.retrieve("q", results=5, caller_filter={"equals": {"key": "year", "value": "x"}})

    assert (raised.value.status, raised.value.code) == (400, "validation_error")
    assert raised.value.message == f"{retrieval.FILTER_REFUSED}: {reason}"


def test_missing_knowledge_base_and_denied_access_say_what_to_check():
    assert "KnowledgeBaseId output" in RETRIEVE_ERRORS["ResourceNotFoundException"].message
    denied = RETRIEVE_ERRORS["AccessDeniedException"].message
    assert "bedrock:Retrieve" in denied and "service role" in denied and "embedding model" in denied


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (
            ReadTimeoutError(endpoint_url="https://bedrock-agent-runtime.us-east-1.amazonaws.com"),
            504,
            "retrieval_timeout",
        ),
        (
            ConnectTimeoutError(endpoint_url="https://bedrock-agent-runtime.us-east-1.amazonaws.com"),
            503,
            "upstream_unavailable",
        ),
        (
            EndpointConnectionError(endpoint_url="https://bedrock-agent-runtime.us-east-1.amazonaws.com"),
            503,
            "upstream_unavailable",
        ),
        (NoCredentialsError(), 500, "bedrock_credentials_error"),
    ],
)
def test_transport_and_credential_failures_map_like_converses(error, status, code):
    mapped = retrieve_error(error, caller_filter=False)
    assert (mapped.status, mapped.code) == (status, code)


def test_an_expired_token_is_a_credentials_error_not_the_callers():
    from botocore.exceptions import ClientError

    error = ClientError({"Error": {"Code": "ExpiredTokenException", "Message": "expired"}}, "Retrieve")
    assert retrieve_error(error, caller_filter=True).code == "bedrock_credentials_error"


def test_every_fault_a_search_can_give_is_listed_for_the_docs():
    listed = {(fault.status, fault.code) for fault in FAULTS}
    assert {tuple(pair) for pair in DOCUMENTED.values()} <= listed
    assert {(504, "retrieval_timeout"), (503, "upstream_unavailable"), (400, "validation_error")} <= listed


def knowledge_base_rows() -> dict[str, tuple[int, str]]:
    """docs/api.md's knowledge base table: ``| `Error` (Retrieve) | status | `code` |``."""
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    pattern = r"^\|\s*`(\w+)` \(Retrieve\)\s*\|\s*(\d{3})\s*\|\s*`(\w+)`\s*\|\s*$"
    return {m.group(1): (int(m.group(2)), m.group(3)) for m in re.finditer(pattern, text, flags=re.MULTILINE)}


def test_docs_api_md_documents_every_knowledge_base_error_by_name():
    assert knowledge_base_rows() == DOCUMENTED


# --- the fake Retrieve of make local --fake-bedrock ---------------------------------------------------------------


def test_the_fake_answers_from_the_sample_corpus_valid_against_the_service_model():
    from genai_core.catalog import load_catalog

    operation = KnowledgeBase(KB_ID).client.meta.service_model.operation_model("Retrieve")
    request = retrieve_request(KB_ID, "Em quantos períodos posso dividir minhas férias?", results=3)
    validate_parameters(request, operation.input_shape)

    answer = fake_retrieve(**request)

    validate_parameters(answer, operation.output_shape)
    passages = passages_of(answer)
    assert len(passages) == 3
    assert passages[0].source == FAKE_SOURCE.format("politica-de-ferias-e-trabalho-remoto.md")
    assert "até três períodos" in passages[0].text
    assert load_catalog().get("productivity/search") is not None


def test_the_fake_applies_the_callers_filter_to_the_documents_metadata():
    question = "What is the warranty of the battery?"
    english = {"equals": {"key": "language", "value": "en"}}
    found = passages_of(fake_retrieve(**retrieve_request(KB_ID, question, results=10, caller_filter=english)))
    assert found and all(
        chunk.metadata["language"] == "en" for chunk in corpus_chunks() if chunk.text in {p.text for p in found}
    )

    neither = {
        "andAll": [
            english,
            {"equals": {"key": "kind", "value": "policy"}},
            {"in": {"key": "audience", "value": ["customers"]}},
        ]
    }
    assert passages_of(fake_retrieve(**retrieve_request(KB_ID, question, results=10, caller_filter=neither))) == []


def test_the_fake_finds_nothing_for_words_the_corpus_does_not_have():
    assert fake_retrieve(**retrieve_request(KB_ID, "zzyzx quux", results=5)) == {"retrievalResults": []}
