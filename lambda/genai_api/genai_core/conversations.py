"""Server-side conversations: a caller's chat history in DynamoDB, bound to the caller, bounded, expiring.

The owner is an opaque string that the entry point takes from what API Gateway authenticated (the IAM principal's
ARN, or the API key's id) and never from the request; this module stores only its SHA-256 (``owner_key``), so an
assumed role's session name (often an e-mail address) is not kept in the table. Every key starts with that hash:
another caller's conversation is simply not in the caller's partition, which is why every route answers it with
404 (``ConversationNotFound``), and why a chat turn with another caller's ``conversationId`` starts the caller's
own, separate conversation under the same id.

One item per conversation (``pk`` = owner hash, ``sk`` = conversation id) holds its messages, a ``version``, its
times and its TTL. One item, because every pattern but listing touches exactly one conversation: a chat turn is
one GetItem and one conditional PutItem, reading it one GetItem, erasing it one DeleteItem (nothing partial is
left behind). Listing reads a global secondary index (``byUpdated``: partition ``pk``, sort ``updatedAt``) that
projects only the times and the turn count: the list never reads (or pays for) anybody's messages, it comes newest
first, and the function's Query permission is on that index alone.

- Concurrency: a write is conditional on the ``version`` it read (or on there being no item). When two turns of one
  conversation race, the loser gets the current item back (``ReturnValuesOnConditionCheckFailure``), puts its new
  messages after the winner's, and writes again: no turn is lost. After ``WRITE_ATTEMPTS`` lost races in a row the
  turn fails with 409 ``conversation_conflict`` and nothing of it is stored.
- Limits (``Limits``): the stored messages are bounded in number and in bytes (the item stays well under DynamoDB's
  400 KB): the oldest whole exchanges are dropped first. What is sent to the model is bounded separately
  (``Conversation.history``): the newest whole exchanges within a message count and a byte budget.
- Expiry: ``expiresAt`` (epoch seconds, the table's TTL attribute) is ``ttl_days`` after the last turn. DynamoDB
  removes expired items only eventually (typically within two days), so every read here treats an item whose
  ``expiresAt`` has passed as absent.
- Faults: every DynamoDB error shape of the operations used, and botocore's timeouts, connection and credential
  errors, map to a documented status and code (``STORE_ERRORS``, ``FAULTS``).

Message text is user data: nothing here logs, and no error message quotes it. The DynamoDB client is created on
first use, never at import (the cold start budget), and this module itself is imported on the first remembered turn
(``service.py``). The table's names, the limits, the client's settings and the environment variables are shared with
the stack, in ``genai_core/conversation_settings.py``; the error classes are in ``genai_core/errors.py``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from genai_core import clients
from genai_core.bedrock import CREDENTIAL_ERROR_CODES, CREDENTIAL_EXCEPTIONS, Fault
from genai_core.conversation_settings import (
    CONVERSATION_ID_PATTERN,
    PARTITION_KEY,
    SORT_KEY,
    STORE_CLIENT,
    TTL_ATTRIBUTE,
    UPDATED_ATTRIBUTE,
    UPDATED_INDEX,
    ConversationSettings,
    Limits,
)
from genai_core.errors import (
    CallerIdentityMissing,
    ConversationNotFound,
    ConversationStoreError,
    ConversationTooLarge,
    ValidationFailed,
)
from genai_core.limits import ANSWER_MARGIN_SECONDS, ClientSettings

CONVERSATION_ID = re.compile(CONVERSATION_ID_PATTERN)
ROLES = ("user", "assistant")
WRITE_ATTEMPTS = 3  # conditional writes of one turn before 409: each lost race means another turn just landed
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
SECONDS_PER_DAY = 86_400


# --- the fault map (the error classes are in genai_core/errors.py) ---------------------------------------------------


THROTTLED = Fault(
    429, "conversation_store_throttled", "The conversation store is receiving too many requests; retry shortly."
)
UNAVAILABLE = Fault(503, "conversation_store_unavailable", "The conversation store is unavailable; retry later.")
CONFLICT = Fault(
    409,
    "conversation_conflict",
    "Other turns of this conversation were being stored at the same time; this turn was not stored. Send one turn "
    "of a conversation at a time, and retry.",
)
MISCONFIGURED = Fault(
    500,
    "conversation_store_configuration_error",
    "The function cannot use its conversation table (a deployment setting: the table, its permissions or the "
    "function's credentials).",
)
FAILED = Fault(500, "conversation_store_error", "The conversation store failed to process the request.")

# Every error shape of the DynamoDB model for GetItem, PutItem, DeleteItem and Query, and the common errors that
# DynamoDB documents for every operation (ServiceUnavailable, AccessDeniedException, ValidationException...).
# tests/test_conversations.py reads botocore's service model and fails when a modelled shape is missing here.
STORE_ERRORS: Mapping[str, Fault] = {
    "ProvisionedThroughputExceededException": THROTTLED,
    "ThrottlingException": THROTTLED,
    "RequestLimitExceeded": THROTTLED,
    "InternalServerError": UNAVAILABLE,
    "ServiceUnavailable": UNAVAILABLE,
    # A lost race: ours is handled by re-reading; these two come from transactions or multi-Region strongly
    # consistent replicas writing the same item, which this app does not use; a conflict all the same.
    "ConditionalCheckFailedException": CONFLICT,
    "TransactionConflictException": CONFLICT,
    "ReplicatedWriteConflictException": CONFLICT,
    "ResourceNotFoundException": MISCONFIGURED,  # the table (or its index) does not exist
    "AccessDeniedException": MISCONFIGURED,
    # Only with a local secondary index (10 GB per partition key value); this table has none.
    "ItemCollectionSizeLimitExceededException": FAILED,
    "ValidationException": FAILED,  # a request this module should never make
}
RETRY_AFTER_SECONDS = 1  # a throttled request: botocore has already retried it with backoff
FAULTS: tuple[Fault, ...] = (THROTTLED, UNAVAILABLE, CONFLICT, MISCONFIGURED, FAILED)


def store_error(error: Exception) -> ConversationStoreError:
    """Map a botocore exception raised by a DynamoDB call to the error the caller gets."""
    if isinstance(error, ClientError):
        name = str(error.response.get("Error", {}).get("Code", "Unknown"))
        fault = MISCONFIGURED if name in CREDENTIAL_ERROR_CODES else STORE_ERRORS.get(name, FAILED)
    else:
        name = type(error).__name__
        if isinstance(error, CREDENTIAL_EXCEPTIONS):
            fault = MISCONFIGURED
        elif isinstance(error, (ConnectionError, HTTPClientError)):  # connect and read timeouts, resets
            fault = UNAVAILABLE
        else:
            fault = FAILED
    return fault_error(fault, upstream=name)


def fault_error(fault: Fault, *, upstream: str) -> ConversationStoreError:
    """The error of ``fault`` (with a Retry-After when throttled), naming the DynamoDB or botocore error."""
    retry_after = RETRY_AFTER_SECONDS if fault is THROTTLED else None
    return ConversationStoreError(
        fault.message, upstream=upstream, code=fault.code, status=fault.status, retry_after_seconds=retry_after
    )


# --- identity and ids -----------------------------------------------------------------------------------------------


def owner_key(owner: str | None) -> str:
    """The partition key of an owner: the SHA-256 (hex) of the string the entry point authenticated."""
    if not isinstance(owner, str) or not owner:
        raise CallerIdentityMissing("The request has no authenticated caller to bind a conversation to.")
    return hashlib.sha256(owner.encode("utf-8")).hexdigest()


def check_conversation_id(value: Any) -> str:
    """A valid conversation id (letters, digits, ``-`` and ``_``; 1 to 64 characters), or a 400."""
    if not isinstance(value, str) or not CONVERSATION_ID.fullmatch(value):
        raise ValidationFailed("conversationId must be 1 to 64 characters: letters, digits, '-' or '_'.")
    return value


# --- what is stored --------------------------------------------------------------------------------------------------


class Message(NamedTuple):
    """One message as the API shows it (``{"role", "content"}``): what is stored and what ``GET`` returns."""

    role: str
    content: str

    def to_body(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


def _messages(values: Sequence[Mapping[str, Any]]) -> tuple[Message, ...]:
    messages = tuple(Message(str(value["role"]), str(value["content"])) for value in values)
    for index, message in enumerate(messages):
        if message.role not in ROLES or not message.content:
            raise ValueError(f"message {index} must have a role of {ROLES} and a non-empty content")
    return messages


def _check_alternation(messages: Sequence[Message]) -> None:
    """Stored messages (and a turn's new messages with its reply) are whole exchanges: they start with the user,
    alternate, and end with the assistant. Every write keeps this; trimming and the history rely on it."""
    for index, message in enumerate(messages):
        if message.role != ROLES[index % 2]:
            raise ValueError(f"message {index} breaks the alternation user, assistant, user, ...")
    if len(messages) % 2:
        raise ValueError("the messages must end with the assistant's reply")


def _iso(milliseconds: int) -> str:
    return datetime.fromtimestamp(milliseconds / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class ConversationSummary:
    """What a list shows of a conversation: its id, its times and its turn count (each stored message is a turn)."""

    conversation_id: str
    created_at: int  # epoch milliseconds
    updated_at: int
    turns: int

    def to_body(self) -> dict[str, Any]:
        return {
            "conversationId": self.conversation_id,
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at),
            "turns": self.turns,
        }


@dataclass(frozen=True)
class Conversation:
    """One caller's conversation as read (or about to be started): its messages, oldest first (they start with
    the user and alternate), and the ``version`` of the item it was read from, which the next write is conditional
    on (0: there is no item)."""

    conversation_id: str
    messages: tuple[Message, ...] = ()
    version: int = 0
    created_at: int | None = None  # epoch milliseconds; None: not stored (or expired): the next turn starts it
    updated_at: int | None = None

    @property
    def exists(self) -> bool:
        return self.created_at is not None

    def history(self, limits: Limits) -> list[dict[str, str]]:
        """What a turn sends to the model before its new messages: the newest whole exchanges (a user message and
        the reply to it) that fit both ``max_history_messages`` and ``max_history_bytes``. It starts with the user
        and alternates, as stored; nothing is ever cut inside a message, and an exchange that does not fit is left
        out with everything older."""
        sent: list[Message] = []
        used = 0
        exchanges = [self.messages[i : i + 2] for i in range(0, len(self.messages), 2)]
        for exchange in reversed(exchanges):
            size = sum(len(message.content.encode("utf-8")) for message in exchange)
            if len(sent) + len(exchange) > limits.max_history_messages or used + size > limits.max_history_bytes:
                break
            sent[:0] = exchange
            used += size
        return [message.to_body() for message in sent]

    def summary(self) -> ConversationSummary:
        if self.created_at is None or self.updated_at is None:
            raise ValueError("a conversation that is not stored has no summary")
        return ConversationSummary(self.conversation_id, self.created_at, self.updated_at, len(self.messages))

    def to_body(self) -> dict[str, Any]:
        """``GET /conversations/{conversationId}``: the summary and the messages."""
        return {**self.summary().to_body(), "messages": [message.to_body() for message in self.messages]}


@dataclass(frozen=True)
class ConversationPage:
    """One page of a caller's conversations, newest first; ``next_token`` asks for the next (None: the last)."""

    conversations: tuple[ConversationSummary, ...]
    next_token: str | None

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"conversations": [conversation.to_body() for conversation in self.conversations]}
        if self.next_token is not None:
            body["nextToken"] = self.next_token
        return body


# --- DynamoDB's item format (a fixed shape of strings, integers, and a list of two-string maps) --------------------


def _number_size(value: str) -> int:
    """DynamoDB's size of a Number: one byte per two significant digits, plus one."""
    digits = value.lstrip("-").replace(".", "").strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def attribute_size(value: Mapping[str, Any]) -> int:
    """The size DynamoDB counts for one attribute value (its name not included), by the rules of its "Item sizes
    and formats" page: a String is its UTF-8 length, a Number about one byte per two digits plus one, and a List
    or a Map 3 bytes plus 1 byte per element plus its elements (a Map's names included)."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return _number_size(inner)
    if kind == "L":
        return 3 + sum(1 + attribute_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + attribute_size(element) for name, element in inner.items())
    raise ValueError(f"no size rule for a {kind} attribute")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """The size DynamoDB counts for an item: every attribute's name and value."""
    return sum(len(name.encode("utf-8")) + attribute_size(value) for name, value in item.items())


# The names of a stored message's map (role, content): part of its size, as DynamoDB counts a map.
_MESSAGE_OVERHEAD = 3 + (1 + len("role")) + (1 + len("content"))


def message_size(message: Message) -> int:
    """``attribute_size`` of a stored message's map, without building it (a turn sizes every stored message)."""
    return _MESSAGE_OVERHEAD + len(message.role) + len(message.content.encode("utf-8"))


def _message_value(message: Message) -> dict[str, Any]:
    return {"M": {"role": {"S": message.role}, "content": {"S": message.content}}}


def _number(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _int(item: Mapping[str, Any], name: str) -> int:
    return int(item[name]["N"])


def _key(owner_hash: str, conversation_id: str) -> dict[str, dict[str, str]]:
    return {PARTITION_KEY: {"S": owner_hash}, SORT_KEY: {"S": conversation_id}}


def _item(owner_hash: str, conversation: Conversation, expires_at: int) -> dict[str, Any]:
    return {
        **_key(owner_hash, conversation.conversation_id),
        "version": _number(conversation.version),
        "createdAt": _number(conversation.created_at or 0),
        UPDATED_ATTRIBUTE: _number(conversation.updated_at or 0),
        TTL_ATTRIBUTE: _number(expires_at),
        "turns": _number(len(conversation.messages)),
        "messages": {"L": [_message_value(message) for message in conversation.messages]},
    }


# An item without messages, every other attribute at its largest: the longest id, 13-digit times (epoch
# milliseconds until the year 2286), a 10-digit TTL, and a version and a turn count of 15 digits.
_LARGEST = 10**15 - 1
LARGEST_ITEM_WITHOUT_MESSAGES = item_size(
    _item("0" * 64, Conversation("x" * 64, version=_LARGEST, created_at=10**13 - 1, updated_at=10**13 - 1), 10**10 - 1)
) + (_number_size(str(_LARGEST)) - _number_size("0"))  # the turn count, 0 above


def _written_over(version: int) -> dict[str, Any]:
    """The condition of a write over the item at ``version`` (0: there must be no item)."""
    if version == 0:
        return {"ConditionExpression": "attribute_not_exists(#pk)", "ExpressionAttributeNames": {"#pk": PARTITION_KEY}}
    return {
        "ConditionExpression": "#version = :version",
        "ExpressionAttributeNames": {"#version": "version"},
        "ExpressionAttributeValues": {":version": _number(version)},
    }


def _from_item(conversation_id: str, item: Mapping[str, Any] | None, now_seconds: float) -> Conversation:
    """The conversation an item holds. Absent, or expired (TTL removes items only eventually), it is a conversation
    to start, over the version that is there."""
    if not item:
        return Conversation(conversation_id)
    version = _int(item, "version")
    if _int(item, TTL_ATTRIBUTE) <= now_seconds:
        return Conversation(conversation_id, version=version)
    try:
        values = [{name: value["S"] for name, value in m["M"].items()} for m in item["messages"]["L"]]
        messages = _messages(values)
        _check_alternation(messages)
    except (KeyError, TypeError, ValueError):
        raise fault_error(FAILED, upstream="MalformedItem") from None
    return Conversation(
        conversation_id,
        messages=messages,
        version=version,
        created_at=_int(item, "createdAt"),
        updated_at=_int(item, UPDATED_ATTRIBUTE),
    )


# --- the client --------------------------------------------------------------------------------------------------------


class DynamoDBClient(Protocol):
    """The four calls of the botocore DynamoDB client that the store makes."""

    def get_item(self, **kwargs: Any) -> dict[str, Any]: ...
    def put_item(self, **kwargs: Any) -> dict[str, Any]: ...
    def delete_item(self, **kwargs: Any) -> dict[str, Any]: ...
    def query(self, **kwargs: Any) -> dict[str, Any]: ...


def make_client(
    settings: ClientSettings = STORE_CLIENT, *, session: Any = None, validate: bool = False
) -> DynamoDBClient:
    """A DynamoDB client with ``settings``' timeouts and attempts (``genai_core/clients.py``); from ``session``
    (a botocore ``Session``) when given, else the container's shared one (the function's role).

    ``validate``: botocore's check of each request against DynamoDB's service model before it is sent. Off by
    default: the store's four requests are built here from a fixed shape, the tests send every one of them through
    a validating client (``validate=True``, under botocore's Stubber, which also checks the model), and DynamoDB
    checks them again on arrival; the check walks every attribute of a conversation's item, a third of the store's
    CPU time on a turn (make bench)."""
    client: DynamoDBClient = clients.make_client("dynamodb", settings, session=session, parameter_validation=validate)
    return client


# --- the store ---------------------------------------------------------------------------------------------------------


class ConversationStore:
    """The conversations of every caller, in one DynamoDB table; each method takes the caller (``owner``) first."""

    def __init__(
        self,
        table_name: str,
        *,
        limits: Limits | None = None,
        client_factory: Callable[[], DynamoDBClient] = make_client,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self.limits = limits or Limits()
        self._client_factory = client_factory
        self._client: DynamoDBClient | None = None
        self._lock = threading.Lock()  # the streaming function's server answers requests in threads
        self._clock = clock
        self.worst_case_seconds = STORE_CLIENT.worst_case_seconds  # of one call: what a caller keeps in reserve

    @classmethod
    def from_settings(cls, settings: ConversationSettings, *, session: Any = None) -> ConversationStore:
        """The store of the function's settings; ``session``: a botocore ``Session`` for its client (default: the
        container's shared one, the function's role)."""
        store = cls(
            settings.table_name,
            limits=settings.limits,
            client_factory=lambda: make_client(settings.client, session=session),
        )
        store.worst_case_seconds = settings.client.worst_case_seconds
        return store

    @property
    def client(self) -> DynamoDBClient:
        """The DynamoDB client, created by the first call that needs it (never at import or at init)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._client_factory()
        return self._client

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self.client, operation)(TableName=self.table_name, **params)
        except (ClientError, BotoCoreError) as error:
            raise store_error(error) from error
        return result

    # --- a chat turn: load, then (once the model has answered) append ---

    def load(self, owner: str | None, conversation_id: str) -> Conversation:
        """The conversation a chat turn continues: the stored one, or (absent or expired) a new one to start."""
        key = _key(owner_key(owner), check_conversation_id(conversation_id))
        item = self._call("get_item", Key=key, ConsistentRead=True).get("Item")
        return _from_item(conversation_id, item, self._clock())

    def append(
        self,
        owner: str | None,
        start: Conversation,
        new_messages: Sequence[Mapping[str, Any]],
        reply: str,
        *,
        time_left: Callable[[], float] | None = None,
    ) -> Conversation:
        """Store a completed turn: the caller's new messages (starting and ending with the user) and the model's
        reply, after the conversation ``start`` (what ``load`` gave). Call it only once the model has answered: a
        turn that failed stores nothing.

        If other turns were stored since ``start`` was read, the new messages go after theirs (nothing is lost)
        and the write is tried again, up to ``WRITE_ATTEMPTS`` writes in all; then 409 ``conversation_conflict``,
        with nothing of this turn stored. ``time_left`` (seconds before the entry point's deadline): a write after
        a lost race is made only while a store call's worst case and the answer's margin still fit (the first
        write is the one the caller kept time for), else the same 409. Returns the conversation as stored."""
        owner_hash = owner_key(owner)
        check_conversation_id(start.conversation_id)
        added = (*_messages(new_messages), *_messages([{"role": "assistant", "content": reply}]))
        _check_alternation(added)  # the new messages start and end with the user
        current = start
        for attempt in range(WRITE_ATTEMPTS):
            if attempt and time_left is not None and time_left() <= self.worst_case_seconds + ANSWER_MARGIN_SECONDS:
                break
            now = self._clock()
            conversation = Conversation(
                start.conversation_id,
                messages=self._fit((*current.messages, *added)),
                version=current.version + 1,
                created_at=current.created_at if current.exists else int(now * 1000),
                updated_at=int(now * 1000),
            )
            expires_at = int(now) + self.limits.ttl_days * SECONDS_PER_DAY
            try:
                self.client.put_item(
                    TableName=self.table_name,
                    Item=_item(owner_hash, conversation, expires_at),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    **_written_over(current.version),
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise store_error(error) from error
                # Another turn was stored first: continue from it (no item: the conversation was deleted; anew).
                current = _from_item(start.conversation_id, error.response.get("Item"), now)
                continue
            except BotoCoreError as error:
                raise store_error(error) from error
            return conversation
        raise fault_error(CONFLICT, upstream="ConditionalCheckFailedException")

    def check_fits(self, new_messages: Sequence[Mapping[str, Any]]) -> None:
        """Before the model is called: 413 ``conversation_too_large`` when the newest exchange of a turn could not be
        stored even with the shortest reply (its last user message alone is over the stored-size budget), so that no
        model call is spent on a turn that cannot be remembered."""
        last = _messages(new_messages[-1:])
        self._fit((*last, Message("assistant", "-")))

    def _fit(self, messages: tuple[Message, ...]) -> tuple[Message, ...]:
        """The newest whole exchanges of ``messages`` within ``max_stored_messages`` and ``max_stored_bytes`` (the
        item's size as DynamoDB counts it, its other attributes at their largest)."""
        limits = self.limits
        sizes = [1 + message_size(message) for message in messages]  # 1: a list element's byte
        first, total = 0, LARGEST_ITEM_WITHOUT_MESSAGES + sum(sizes)
        while first < len(messages) and (
            len(messages) - first > limits.max_stored_messages or total > limits.max_stored_bytes
        ):
            total -= sizes[first] + sizes[first + 1]  # a user message and the reply to it go together
            first += 2
        if first >= len(messages):
            raise ConversationTooLarge("The newest exchange of this conversation is larger than the store keeps.")
        return messages[first:]

    # --- the conversation routes ---

    def get(self, owner: str | None, conversation_id: str) -> Conversation:
        """One of the caller's conversations with its messages; 404 if the caller has none by that id."""
        conversation = self.load(owner, conversation_id)
        if not conversation.exists:
            raise ConversationNotFound(f"There is no conversation {conversation_id!r}.")
        return conversation

    def delete(self, owner: str | None, conversation_id: str) -> None:
        """Erase one of the caller's conversations, including one that expired but that DynamoDB has not removed
        yet; 404 if the table holds none of the caller's by that id."""
        key = _key(owner_key(owner), check_conversation_id(conversation_id))
        try:
            self._call(
                "delete_item",
                Key=key,
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#pk": PARTITION_KEY},
            )
        except ConversationStoreError as error:
            if error.upstream == "ConditionalCheckFailedException":
                raise ConversationNotFound(f"There is no conversation {conversation_id!r}.") from None
            raise

    def list(
        self, owner: str | None, *, limit: int = DEFAULT_PAGE_SIZE, next_token: str | None = None
    ) -> ConversationPage:
        """The caller's conversations, most recently updated first, at most ``limit`` a page. Expired ones are left
        out after the page is read, so a page may hold fewer: continue while ``next_token`` is given. Read from the
        index, which holds no messages."""
        owner_hash = owner_key(owner)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValidationFailed(f"limit must be an integer from 1 to {MAX_PAGE_SIZE}.")
        params: dict[str, Any] = {
            "IndexName": UPDATED_INDEX,
            "KeyConditionExpression": "#pk = :pk",
            "FilterExpression": "#expires > :now",
            "ProjectionExpression": "#sk, createdAt, #updated, turns",
            "ExpressionAttributeNames": {
                "#pk": PARTITION_KEY,
                "#sk": SORT_KEY,
                "#updated": UPDATED_ATTRIBUTE,
                "#expires": TTL_ATTRIBUTE,
            },
            "ExpressionAttributeValues": {":pk": {"S": owner_hash}, ":now": _number(int(self._clock()))},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if next_token is not None:
            params["ExclusiveStartKey"] = _start_key(owner_hash, next_token)
        page = self._call("query", **params)
        conversations = tuple(
            ConversationSummary(
                item[SORT_KEY]["S"], _int(item, "createdAt"), _int(item, UPDATED_ATTRIBUTE), _int(item, "turns")
            )
            for item in page.get("Items", [])
        )
        last = page.get("LastEvaluatedKey")
        return ConversationPage(conversations, _token(last) if last else None)


# --- a remembered chat turn, as the service runs it -------------------------------------------------------------------


@dataclass(frozen=True)
class RememberedTurn:
    """One chat turn of a remembered conversation, between its load and its write: the caller (``owner``), the
    conversation as loaded, the turn's new messages (as the request has them), and the history sent before them."""

    store: ConversationStore
    owner: str
    conversation: Conversation
    new_messages: tuple[Mapping[str, Any], ...]
    history: tuple[Mapping[str, str], ...]

    @property
    def conversation_id(self) -> str:
        return self.conversation.conversation_id

    def messages(self) -> list[Mapping[str, Any]]:
        """What the model is sent: the history, then the new messages."""
        return [*self.history, *self.new_messages]

    def remember(self, reply: str, *, time_left: Callable[[], float] | None = None) -> Conversation:
        """Store the turn once the model has answered with ``reply`` (``ConversationStore.append``)."""
        return self.store.append(self.owner, self.conversation, self.new_messages, reply, time_left=time_left)


def begin_turn(
    store: ConversationStore, owner: str | None, conversation_id: Any, new_messages: Sequence[Mapping[str, Any]]
) -> RememberedTurn:
    """Start a remembered turn: check the id (400) and the caller (500 without one), refuse new messages that could
    never be stored (413), load the conversation (one consistent read: the caller's own, or a new one under this id),
    and choose the history the model is sent (``Conversation.history``)."""
    check_conversation_id(conversation_id)
    owner_key(owner)
    store.check_fits(new_messages)
    conversation = store.load(str(owner), conversation_id)
    history = conversation.history(store.limits)
    return RememberedTurn(store, str(owner), conversation, tuple(new_messages), tuple(history))


# --- pagination: a token holds only a position inside the caller's own partition -----------------------------------


def _token(last_key: Mapping[str, Any]) -> str:
    position = {"u": _int(last_key, UPDATED_ATTRIBUTE), "c": last_key[SORT_KEY]["S"]}
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def _start_key(owner_hash: str, token: str) -> dict[str, Any]:
    """The ExclusiveStartKey of a token. The partition is always the caller's own (a token carries none), so an
    edited token can only move within the caller's own conversations."""
    invalid = ValidationFailed("nextToken is not a token that this API gave.")
    try:
        position = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        updated, conversation_id = position["u"], position["c"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise invalid from None
    if isinstance(updated, bool) or not isinstance(updated, int) or updated < 0:
        raise invalid
    if not isinstance(conversation_id, str) or not CONVERSATION_ID.fullmatch(conversation_id):
        raise invalid
    return {**_key(owner_hash, conversation_id), UPDATED_ATTRIBUTE: _number(updated)}
