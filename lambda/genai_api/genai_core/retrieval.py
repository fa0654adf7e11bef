"""Amazon Bedrock Knowledge Bases: the ``bedrock-agent-runtime`` client (made on the first search), the Retrieve
call, the passages it returns, and its fault map.

Imported on the first request of a task that retrieves (``UseCaseService.knowledge_base``), never at the function's
init: a container that serves no search pays nothing for it, and the cold start budget holds with the knowledge base
on. The client has short timeouts of its own (``limits.RETRIEVAL_CLIENT``): a search is an embedding and a vector
query, well under a second when the service is healthy, and what it takes is time the model call no longer has.

Passages are what the prompt carries (``Passage.shown``: an id the model may cite, its source document and its text)
and what a citation returns (``Passage.citation``). Their text is the knowledge base's, bounded by the chunking, and
cut at ``MAX_PASSAGE_CHARS`` all the same. A result without text or without a source location is left out: it could
be neither read nor cited.

Every error shape of the bedrock-agent-runtime service model maps to a documented status and code
(``RETRIEVE_ERRORS``; tests/test_retrieval.py reads the model and fails when a shape is missing): throttling and
quotas are 429s as at Converse, a denied access and a missing knowledge base are 502s whose message says what to
check, a knowledge base being updated is a 503, and a ValidationException is the caller's 400 when the request
carried the caller's filter (the knowledge base refused it, and says why), else a 502 that does not blame the caller.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from genai_core import clients
from genai_core.bedrock import (
    CREDENTIAL_ERROR_CODES,
    CREDENTIALS_FAILED,
    MAX_UPSTREAM_DETAIL,
    Fault,
    api_error,
    error_code_and_message,
    transport_fault,
)
from genai_core.errors import ApiError, ValidationFailed
from genai_core.limits import RETRIEVAL_CLIENT, ClientSettings

if TYPE_CHECKING:
    from mypy_boto3_bedrock_agent_runtime import AgentsforBedrockRuntimeClient
    from mypy_boto3_bedrock_agent_runtime.type_defs import RetrieveRequestTypeDef

MAX_QUERY_CHARS = 20_000  # Retrieve's retrievalQuery.text (bedrock-agent-runtime service model)
MAX_PASSAGE_CHARS = 10_000  # a passage's text in the prompt (a 300-token chunk is about 1,200)
PASSAGE_ID = "p{}"  # p1, p2...: short, and not a number the model could write as one


def make_client(settings: ClientSettings = RETRIEVAL_CLIENT) -> AgentsforBedrockRuntimeClient:
    client: AgentsforBedrockRuntimeClient = clients.make_client("bedrock-agent-runtime", settings)
    return client


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk: the id it has in this request's prompt, the document it comes from, its text."""

    id: str
    source: str
    text: str
    score: float | None = None

    def shown(self) -> dict[str, str]:
        """What the prompt's passages block holds for it (``catalog.PASSAGE_FIELDS``)."""
        return {"id": self.id, "source": self.source, "text": self.text}

    def citation(self) -> dict[str, str]:
        """What the answer returns when the model cites it (``catalog.CITATION_SCHEMA``)."""
        return {"id": self.id, "source": self.source, "passage": self.text}


def source_of(result: Mapping[str, Any]) -> str | None:
    """The document a result comes from: its S3 URI (the data source of this project's knowledge base), or the URL or
    URI of another location type; Bedrock's own metadata key as a last resort."""
    location = result.get("location") or {}
    for key, field in (("s3Location", "uri"), ("webLocation", "url"), ("customDocumentLocation", "id")):
        value = (location.get(key) or {}).get(field)
        if isinstance(value, str) and value:
            return value
    value = (result.get("metadata") or {}).get("x-amz-bedrock-kb-source-uri")
    return value if isinstance(value, str) and value else None


def passages_of(response: Mapping[str, Any]) -> list[Passage]:
    """The passages of a Retrieve response, in its order (most relevant first), numbered p1, p2..."""
    passages: list[Passage] = []
    for result in response.get("retrievalResults", ()):
        text = (result.get("content") or {}).get("text")
        source = source_of(result)
        if not isinstance(text, str) or not text.strip() or source is None:
            continue
        score = result.get("score")
        passages.append(
            Passage(
                PASSAGE_ID.format(len(passages) + 1),
                source,
                text[:MAX_PASSAGE_CHARS],
                float(score) if isinstance(score, (int, float)) else None,
            )
        )
    return passages


def retrieve_request(
    knowledge_base_id: str, query: str, *, results: int, caller_filter: Mapping[str, Any] | None = None
) -> RetrieveRequestTypeDef:
    """The Retrieve parameters: the query (its end, if it is over Retrieve's limit: the question comes last), how
    many results, and the caller's filter when there is one."""
    search: dict[str, Any] = {"numberOfResults": results}
    if caller_filter:
        search["filter"] = dict(caller_filter)
    return {
        "knowledgeBaseId": knowledge_base_id,
        "retrievalQuery": {"text": query[-MAX_QUERY_CHARS:]},
        "retrievalConfiguration": {"vectorSearchConfiguration": search},  # type: ignore[typeddict-item]
    }


class KnowledgeBase:
    """The deployment's knowledge base: its id, and the agent-runtime client made on the first search."""

    def __init__(self, knowledge_base_id: str, settings: ClientSettings = RETRIEVAL_CLIENT) -> None:
        self.knowledge_base_id = knowledge_base_id
        self.settings = settings

    @functools.cached_property
    def client(self) -> AgentsforBedrockRuntimeClient:
        return make_client(self.settings)

    def retrieve(self, query: str, *, results: int, caller_filter: Mapping[str, Any] | None = None) -> list[Passage]:
        """Search; any Bedrock or transport failure comes out as an ``ApiError``."""
        request = retrieve_request(self.knowledge_base_id, query, results=results, caller_filter=caller_filter)
        try:
            response = self.client.retrieve(**request)
        except (ClientError, BotoCoreError) as error:
            raise retrieve_error(error, caller_filter=bool(caller_filter)) from error
        return passages_of(response)


# Every error shape of the bedrock-agent-runtime service model (every operation's: ModelNotReadyException is
# modelled for other operations, and a model behind the knowledge base may answer it) -> the caller's fault.
RETRIEVE_ERRORS: Mapping[str, Fault] = {
    "ThrottlingException": Fault(
        429, "throttled", "The knowledge base is receiving too many requests; retry after a short wait."
    ),
    "ServiceQuotaExceededException": Fault(
        429,
        "quota_exceeded",
        "A service quota of Amazon Bedrock Knowledge Bases for this account is exceeded; retry later.",
    ),
    "AccessDeniedException": Fault(
        502,
        "knowledge_base_access_denied",
        "The function may not search the configured knowledge base, or the knowledge base may not use its index or "
        "embedding model (check bedrock:Retrieve on the function's role, the knowledge base's service role, and "
        "access to the embedding model in the Amazon Bedrock console).",
    ),
    "ResourceNotFoundException": Fault(
        502,
        "knowledge_base_not_found",
        "The configured knowledge base does not exist in this region (KNOWLEDGE_BASE_ID is the stack's "
        "KnowledgeBaseId output: is the stack deployed here?).",
    ),
    "ConflictException": Fault(
        503, "knowledge_base_busy", "The knowledge base is being changed and cannot be searched now; retry later."
    ),
    "DependencyFailedException": Fault(
        502,
        "knowledge_base_dependency_failed",
        "A service the knowledge base depends on (its vector store or its embedding model) failed; retry later.",
    ),
    "ModelNotReadyException": Fault(
        503, "model_not_ready", "The knowledge base's embedding model is not ready to serve requests yet; retry later."
    ),
    "InternalServerException": Fault(502, "retrieval_failed", "Amazon Bedrock failed to search the knowledge base."),
    "BadGatewayException": Fault(502, "retrieval_failed", "Amazon Bedrock failed to search the knowledge base."),
    # Without a filter of the caller's, nothing the caller sent can be invalid (the query and the number of results
    # are bounded by the task's input schema): the deployment's knowledge base id or settings are.
    "ValidationException": Fault(
        502,
        "knowledge_base_configuration_error",
        "The knowledge base refused the search: its id or its settings are wrong (a deployment setting).",
    ),
}
FILTER_REFUSED = "The knowledge base refused the filter"  # a ValidationException when the caller sent a filter
READ_TIMEOUT = Fault(504, "retrieval_timeout", "The knowledge base took too long to answer.")
CONNECTION_FAILED = Fault(
    503, "upstream_unavailable", "Amazon Bedrock Knowledge Bases could not be reached; retry later."
)
OTHER_FAILURE = Fault(502, "retrieval_failed", "Amazon Bedrock failed to search the knowledge base.")
# Every fault a search can give a caller (the OpenAPI document and the docs' error tables are checked against it).
FAULTS: tuple[Fault, ...] = (
    *RETRIEVE_ERRORS.values(),
    Fault(400, ValidationFailed.code, FILTER_REFUSED),
    READ_TIMEOUT,
    CONNECTION_FAILED,
    OTHER_FAILURE,
    CREDENTIALS_FAILED,
)


def retrieve_error(error: Exception, *, caller_filter: bool) -> ApiError:
    """Map a botocore exception raised by Retrieve to the error the caller gets."""
    if isinstance(error, ClientError):
        name, detail = error_code_and_message(error)
        if name in CREDENTIAL_ERROR_CODES:
            fault = CREDENTIALS_FAILED
        elif name == "ValidationException" and caller_filter:
            detail = detail[:MAX_UPSTREAM_DETAIL]
            return ValidationFailed(f"{FILTER_REFUSED}: {detail}" if detail else f"{FILTER_REFUSED}.")
        else:
            fault = RETRIEVE_ERRORS.get(name, OTHER_FAILURE)
    else:
        name, fault = transport_fault(
            error, read_timeout=READ_TIMEOUT, connection_failed=CONNECTION_FAILED, other=OTHER_FAILURE
        )
    return api_error(fault, name)
