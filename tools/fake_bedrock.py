"""A fake Amazon Bedrock that answers from the request's own schemas: for ``make local LOCAL_ARGS=--fake-bedrock``
(no AWS account, no credentials, no network) and for the tests that need a model to answer anything (fuzzing,
every route end to end). Tests that check the exact Converse request use botocore's Stubber instead.

What it answers:

- Converse with a tool (a structured task forces one): a call of that tool whose input is a value of the tool's
  input schema, which the core resolved against the request, so the caller's enums, counts and bounds hold
  (``tools.schema_samples.sample``; arrays get one item where the schema allows it, so that the constraints on
  items are exercised, and exactly ``minItems`` where it asks for more);
- Converse without a tool (a text task): ``FAKE_TEXT``;
- ConverseStream: ``FAKE_TEXT`` word by word as text deltas, then the stop reason and the usage;
- a request whose document or image blocks break Converse's documented rules (more than five documents or twenty
  images, a document without a text block beside it, a document name outside Converse's characters, two documents
  of one name): a ``ValidationException`` in Bedrock's own words, as the service would answer (``file_rules``). The
  function checks all of these before calling; the fake makes ``make local`` prove it;
- Retrieve (bedrock-agent-runtime, the knowledge base): passages of the sample corpus, ``examples/corpus/``, cut
  at its blank lines and ranked by how many of the query's words they share (accents and case ignored, short and
  common words left out), each with its document's metadata (its ``.metadata.json``) for the caller's filter; no
  passage when no word matches, which is how a question off the corpus gets the "nothing retrieved" answer. Each
  source is ``s3://fake-corpus/<file>``.

``FakeBedrock.install`` plugs it into a ``UseCaseService``'s real bedrock-runtime client (and, where the service has
a knowledge base, its bedrock-agent-runtime client) at botocore's ``before-call`` event, as botocore's Stubber does:
botocore has validated the parameters against the service model and serialized the request; nothing is signed or
sent, and the handler, the core and the fault maps above the clients run unchanged. Every answer is validated
against the service model's output shape. The service's models are renamed ``fake-bedrock/<model>``, so every
answer says it is fake.
"""

from __future__ import annotations

import functools
import json
import re
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters

from tools.schema_samples import sample

FAKE_TEXT = "This is a fake answer from the fake Bedrock of make local: no model was called."
MODEL_PREFIX = "fake-bedrock/"
HEADER = ("X-Fake-Bedrock", "true")  # on every response of make local --fake-bedrock
CORPUS = Path(__file__).resolve().parent.parent / "examples" / "corpus"
FAKE_KNOWLEDGE_BASE_ID = "FAKEKB0000"  # Retrieve's id pattern: ten letters or digits
FAKE_SOURCE = "s3://fake-corpus/{}"
# Words that say nothing about what a question is about (after folding accents and case), in both languages.
STOP_WORDS = frozenset(
    """
    a o as os um uma uns umas de do da dos das em no na nos nas por para com sem que qual quais quem como onde
    quando quanto quantos quantas e ou se ser sao foi meu minha meus minhas seu sua posso pode podem devo tem
    ter the an of to in on at for with by from and or is are was be can could should do does did how what which
    who when where why much many my your our i we you it this that there
    """.split()
)


def fake_model(model_id: str) -> str:
    return f"{MODEL_PREFIX}{model_id}"


def instance_from_schema(schema: dict[str, Any]) -> Any:
    """The smallest JSON value valid against ``schema``."""
    return sample(schema)


def _usage(request: Mapping[str, Any], answer: Any) -> dict[str, int]:
    """Roughly four characters a token, as a model's tokenizer would count them."""
    tokens_in = max(1, len(json.dumps(request, ensure_ascii=False)) // 4)
    tokens_out = max(1, len(json.dumps(answer, ensure_ascii=False)) // 4)
    return {"inputTokens": tokens_in, "outputTokens": tokens_out, "totalTokens": tokens_in + tokens_out}


# Converse's documented rules for files (the Message and DocumentBlock shapes of bedrock-runtime's service model), and
# Bedrock's words when a request breaks one (as quoted in public reports of its answers: research notes of issue 14).
MAX_DOCUMENTS, MAX_IMAGES = 5, 20
DOCUMENT_NAME = re.compile(r"[A-Za-z0-9()\[\]-]+(?: [A-Za-z0-9()\[\]-]+)*")
TOO_MANY_DOCUMENTS = "You can't include more than 5 documents in a request."
NO_TEXT_BLOCK = "A text block must be included when using documents. Add a text block and retry your request."
BAD_NAME = (
    "The document file name can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, "
    "and square brackets. The name can't contain more than one consecutive whitespace character. Check that the file "
    "name conforms to these restrictions and retry your request."
)
DUPLICATE_NAMES = "Messages can't contain duplicate document names. Rename the document and retry your request."


class FakeValidationError(Exception):
    """The fake's ValidationException, with Bedrock's message."""


def file_rules(messages: list[dict[str, Any]]) -> str | None:
    """The first of Converse's rules for document and image blocks that ``messages`` break, in Bedrock's words."""
    names: list[str] = []
    images = 0
    for message in messages:
        content = message.get("content", [])
        documents = [block["document"] for block in content if "document" in block]
        images += sum(1 for block in content if "image" in block)
        if documents and not any(str(block.get("text", "")).strip() for block in content):
            return NO_TEXT_BLOCK
        for document in documents:
            name = str(document.get("name", ""))
            if not DOCUMENT_NAME.fullmatch(name) or len(name) > 200:
                return BAD_NAME
            names.append(name)
    if len(names) > MAX_DOCUMENTS:
        return TOO_MANY_DOCUMENTS
    if images > MAX_IMAGES:
        return f"The model returned the following errors: messages: too many images: image_count > {MAX_IMAGES}"
    if len(set(names)) != len(names):
        return DUPLICATE_NAMES
    return None


def fake_converse(**request: Any) -> dict[str, Any]:
    """A Converse response to ``request`` (the parameters of ``client.converse``)."""
    problem = file_rules(request.get("messages", []))
    if problem is not None:
        raise FakeValidationError(problem)
    tools = request.get("toolConfig", {}).get("tools", [])
    if tools:
        spec = tools[0]["toolSpec"]
        answer = sample(spec["inputSchema"]["json"], text="fake", min_items=1)
        content: list[dict[str, Any]] = [
            {"toolUse": {"toolUseId": "tooluse_fake", "name": spec["name"], "input": answer}}
        ]
        stop_reason = "tool_use"
    else:
        answer = FAKE_TEXT
        content = [{"text": FAKE_TEXT}]
        stop_reason = "end_turn"
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason,
        "usage": _usage(request, answer),
        "metrics": {"latencyMs": 1},
    }


def fake_converse_stream(request: Mapping[str, Any], *, delay_seconds: float = 0.0) -> Iterator[dict[str, Any]]:
    """The events of a ConverseStream answer to ``request``: ``FAKE_TEXT`` in several deltas, ``delay_seconds``
    apart (so that a reader sees them come), then the stop and the usage."""
    words = FAKE_TEXT.split(" ")
    yield {"messageStart": {"role": "assistant"}}
    for index, word in enumerate(words):
        if index and delay_seconds:
            time.sleep(delay_seconds)
        text = word if index == len(words) - 1 else f"{word} "
        yield {"contentBlockDelta": {"delta": {"text": text}, "contentBlockIndex": 0}}
    yield {"contentBlockStop": {"contentBlockIndex": 0}}
    yield {"messageStop": {"stopReason": "end_turn"}}
    yield {"metadata": {"usage": _usage(request, FAKE_TEXT), "metrics": {"latencyMs": 1}}}


def words(text: str) -> set[str]:
    """The words of ``text`` that say what it is about: accents and case folded, stop words and one-letter words out."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    return {word for word in re.findall(r"[a-z0-9]+", plain) if len(word) > 1 and word not in STOP_WORDS}


@dataclass(frozen=True)
class Chunk:
    source: str
    text: str
    metadata: Mapping[str, Any]
    words: frozenset[str]


@functools.cache
def corpus_chunks(folder: Path = CORPUS) -> tuple[Chunk, ...]:
    """The sample corpus cut at its blank lines (a heading stays with what follows it), with each document's
    metadata attributes (its ``<document>.metadata.json``) and Bedrock's source URI key."""
    chunks = []
    for path in sorted(folder.glob("*")):
        if path.name.endswith(".metadata.json") or not path.is_file():
            continue
        sidecar = path.with_name(path.name + ".metadata.json")
        attributes = json.loads(sidecar.read_text(encoding="utf-8"))["metadataAttributes"] if sidecar.exists() else {}
        source = FAKE_SOURCE.format(path.name)
        metadata = {**attributes, "x-amz-bedrock-kb-source-uri": source}
        pending = ""
        for paragraph in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
            paragraph = paragraph.strip()
            if not paragraph:
                continue
            if paragraph.startswith("#") and "\n" not in paragraph:  # a heading: keep it with the next paragraph
                pending = f"{pending}{paragraph}\n"
                continue
            text = pending + paragraph
            pending = ""
            chunks.append(Chunk(source, text, metadata, frozenset(words(text))))
    return tuple(chunks)


def matches(condition: Mapping[str, Any], metadata: Mapping[str, Any]) -> bool:
    """Whether a chunk's metadata satisfies a RetrievalFilter (the operators ``genai_core.filters`` accepts)."""
    ((operator, operand),) = condition.items()
    if operator == "andAll":
        return all(matches(branch, metadata) for branch in operand)
    if operator == "orAll":
        return any(matches(branch, metadata) for branch in operand)
    key, value = operand["key"], operand["value"]
    if key not in metadata:
        return operator in ("notEquals", "notIn")
    found = metadata[key]
    comparisons: dict[str, Callable[[], bool]] = {
        "equals": lambda: found == value,
        "notEquals": lambda: found != value,
        "greaterThan": lambda: _number(found) and found > value,
        "greaterThanOrEquals": lambda: _number(found) and found >= value,
        "lessThan": lambda: _number(found) and found < value,
        "lessThanOrEquals": lambda: _number(found) and found <= value,
        "in": lambda: found in value,
        "notIn": lambda: found not in value,
    }
    return comparisons[operator]()


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def fake_retrieve(**request: Any) -> dict[str, Any]:
    """A Retrieve response to ``request`` (the parameters of ``client.retrieve``) from the sample corpus."""
    search = request.get("retrievalConfiguration", {}).get("vectorSearchConfiguration", {})
    wanted = words(request["retrievalQuery"].get("text", ""))
    condition = search.get("filter")
    ranked: list[tuple[int, int, Chunk]] = []
    for position, chunk in enumerate(corpus_chunks()):
        shared = len(wanted & chunk.words)
        if shared and (condition is None or matches(condition, chunk.metadata)):
            ranked.append((-shared, position, chunk))
    ranked.sort(key=lambda item: item[:2])
    results = []
    for negative, _, chunk in ranked[: int(search.get("numberOfResults", 5))]:
        results.append(
            {
                "content": {"type": "TEXT", "text": chunk.text},
                "location": {"type": "S3", "s3Location": {"uri": chunk.source}},
                "score": round(-negative / max(len(wanted), 1), 4),
                "metadata": dict(chunk.metadata),
            }
        )
    return {"retrievalResults": results}


def _ok(parsed: Mapping[str, Any], output_shape: Any) -> tuple[AWSResponse, dict[str, Any]]:
    validate_parameters(parsed, output_shape)  # as the Stubber validates its responses
    return AWSResponse(None, 200, {}, None), {**parsed, "ResponseMetadata": _metadata(200)}


def _metadata(status: int) -> dict[str, Any]:
    return {"RequestId": f"fake-{uuid.uuid4()}", "HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0}


def _refusal(message: str) -> tuple[AWSResponse, dict[str, Any]]:
    """A ValidationException in the service's words (HTTP 400)."""
    error = {"Code": "ValidationException", "Message": message}
    return AWSResponse(None, 400, {}, None), {"Error": error, "ResponseMetadata": _metadata(400)}


class FakeBedrock:
    """Answers the Converse, ConverseStream and Retrieve calls of the services it is installed on; ``close`` undoes
    it."""

    def __init__(self, *, delay_seconds: float = 0.0) -> None:
        self.delay_seconds = delay_seconds
        self.unique_id = f"fake-bedrock-{id(self)}"
        self._undo: list[Callable[[], None]] = []

    def install(self, service: Any) -> None:
        """Fake ``service``'s client (a ``genai_core.service.UseCaseService``): its models become
        ``fake-bedrock/<model>``, and its single-attempt client (when the time left allows one attempt only) is the
        same faked client."""
        client, models, single_attempt_client = service.client, service.models, service.single_attempt_client
        service.models = {family: fake_model(model) for family, model in models.items()}
        service.single_attempt_client = lambda: client
        clients: Sequence[tuple[Any, str]] = [(client, "bedrock-runtime")]
        if getattr(service, "knowledge_base_id", None):  # made now, not on the first search: it is answered here
            clients = [*clients, (service.knowledge_base.client, "bedrock-agent-runtime")]
        for one, name in clients:
            one.meta.events.register_first(f"before-call.{name}", self._answer, unique_id=self.unique_id)

        def undo() -> None:
            for one, name in clients:
                one.meta.events.unregister(f"before-call.{name}", unique_id=self.unique_id)
            service.models, service.single_attempt_client = models, single_attempt_client

        self._undo.append(undo)

    def close(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _answer(self, model: Any, params: Mapping[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        """botocore's ``before-call`` handler: ``params`` is the serialized request (its JSON body; the model id
        is in the URL); the answer is the HTTP response and the parsed response, as from the service."""
        request = json.loads(params.get("body") or b"{}")
        if model.name == "Converse":
            try:
                parsed = fake_converse(**request)
            except FakeValidationError as problem:
                return _refusal(str(problem))
            return _ok(parsed, model.output_shape)
        if model.name == "Retrieve":
            return _ok(fake_retrieve(**request), model.output_shape)
        if model.name == "ConverseStream":
            problem = file_rules(request.get("messages", []))
            if problem is not None:
                return _refusal(problem)
            stream = fake_converse_stream(request, delay_seconds=self.delay_seconds)
            return AWSResponse(None, 200, {}, None), {"stream": stream, "ResponseMetadata": _metadata(200)}
        return _refusal(f"The fake Bedrock does not answer {model.name}.")
