"""The conversation store (genai_core/conversations.py) against DynamoDB's behaviour, offline.

moto (``mock_aws``, in-process: no socket) stands in for DynamoDB where its behaviour matters: conditional writes,
the index, filters, item size. The table is created from the construct's synthesized definition
(tests/conversations_support.py), so the store runs on the keys, index and TTL attribute the stack deploys. moto
never deletes expired items, like DynamoDB in the up to two days before its TTL process does: the reads' expiry
filter is what the TTL tests see. botocore's Stubber, on a real client that validates every request against
DynamoDB's model, stands in where moto cannot: DynamoDB's faults.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import DynamoType

from genai_core import conversations
from genai_core.conversation_settings import (
    INDEX_ACTIONS,
    ITEM_LIMIT_BYTES,
    MAX_STORED_BYTES_CEILING,
    MIN_STORED_BYTES,
    STORE_CLIENT,
    TABLE_ACTIONS,
    TTL_ATTRIBUTE,
    UPDATED_INDEX,
    ConversationSettings,
    Limits,
)
from genai_core.conversations import (
    MAX_PAGE_SIZE,
    SECONDS_PER_DAY,
    STORE_ERRORS,
    WRITE_ATTEMPTS,
    Conversation,
    ConversationStore,
    Message,
    item_size,
    owner_key,
)
from genai_core.errors import (
    CallerIdentityMissing,
    ConversationNotFound,
    ConversationStoreError,
    ConversationTooLarge,
    ValidationFailed,
)
from genai_core.limits import ClientSettings
from tests.conversations_support import Clock, create_table, table_properties, table_template

TABLE = "conversations"
REGION = "us-east-1"
# Owners as the entry points pass them: an assumed role's ARN (its session name an e-mail address) and an API key.
ALICE = "arn:aws:sts::123456789012:assumed-role/AppUsers/alice@example.com"
BOB = "arn:aws:sts::123456789012:assumed-role/AppUsers/bob@example.com"
API_KEY = "apikey:abc123def4"
DYNAMODB_MODEL = botocore.session.get_session().get_service_model("dynamodb")
# The operations the store may call (the IAM actions it is granted, by the model's operation names).
GRANTED = {action.removeprefix("dynamodb:") for action in (*TABLE_ACTIONS, *INDEX_ACTIONS)}


@pytest.fixture(scope="module")
def table_definition() -> dict[str, Any]:
    return table_properties(table_template())


@pytest.fixture(scope="module")
def moto_aws() -> Any:
    """moto's in-process AWS, started once for the module (starting and stopping it costs ~0.13 s of CPU)."""
    with mock_aws():
        yield


@pytest.fixture
def dynamodb(moto_aws: None, table_definition: dict[str, Any]) -> Any:
    """A low-level DynamoDB client on an in-process moto table shaped as the stack's: a new table for each test."""
    client = boto3.client("dynamodb", region_name=REGION)
    create_table(client, TABLE, table_definition)
    yield client
    client.delete_table(TableName=TABLE)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def new_store(dynamodb: Any, clock: Clock) -> Any:
    """A store on the moto table; ``client`` gives it a client of its own (another function instance)."""

    def make(limits: Limits | None = None, client: Any = None) -> ConversationStore:
        return ConversationStore(TABLE, limits=limits, client_factory=lambda: client or dynamodb, clock=clock)

    return make


@pytest.fixture
def store(new_store: Any) -> ConversationStore:
    return new_store()


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def turn(store: ConversationStore, owner: str, conversation_id: str, text: str, reply: str = "ok") -> Conversation:
    """One chat turn as the service makes it: load, (the model answers), append."""
    return store.append(owner, store.load(owner, conversation_id), [user(text)], reply)


def contents(conversation: Conversation) -> list[str]:
    return [message.content for message in conversation.messages]


def calls_of(store: ConversationStore, owner: str = ALICE) -> dict[str, Any]:
    """One call of the store per DynamoDB operation it makes, by the client method."""
    return {
        "get_item": lambda: store.load(owner, "c1"),
        "put_item": lambda: store.append(owner, Conversation("c1"), [user("private words")], "private reply"),
        "delete_item": lambda: store.delete(owner, "c1"),
        "query": lambda: store.list(owner),
    }


def raw_items(dynamodb: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = dynamodb.scan(TableName=TABLE)["Items"]
    return items


def exchanges(count: int, size: int = 10) -> tuple[Message, ...]:
    messages: list[Message] = []
    for index in range(count):
        messages += [Message("user", f"{index}".ljust(size, "u")), Message("assistant", f"{index}".ljust(size, "a"))]
    return tuple(messages)


# --- history round trips ---------------------------------------------------------------------------------------------


def test_a_conversation_round_trips_in_order_with_its_times_and_turn_count(store, clock):
    first = turn(store, ALICE, "support-1", "Where is my order?", "It ships tomorrow.")
    clock.advance(60)
    turn(store, ALICE, "support-1", "Can I change the address?", "Yes, until it ships.")

    conversation = store.get(ALICE, "support-1")
    assert contents(conversation) == [
        "Where is my order?",
        "It ships tomorrow.",
        "Can I change the address?",
        "Yes, until it ships.",
    ]
    assert [message.role for message in conversation.messages] == ["user", "assistant", "user", "assistant"]
    assert conversation.created_at == first.created_at == int((clock.now - 60) * 1000)
    assert conversation.updated_at == int(clock.now * 1000)
    body = conversation.to_body()
    assert body["conversationId"] == "support-1"
    assert body["turns"] == 4
    assert body["createdAt"].endswith("Z") and body["createdAt"] < body["updatedAt"]
    assert body["messages"][0] == {"role": "user", "content": "Where is my order?"}
    # What the next turn sends to the model before its new message: the stored messages, in the API's shape.
    assert conversation.history(store.limits) == body["messages"]


def test_a_turn_may_bring_several_new_messages_and_they_are_stored_in_order(store):
    start = store.load(ALICE, "c1")
    new = [user("I saw this answer:"), {"role": "assistant", "content": "quoted"}, user("Is it right?")]
    store.append(ALICE, start, new, "Yes.")

    assert contents(store.get(ALICE, "c1")) == ["I saw this answer:", "quoted", "Is it right?", "Yes."]


def test_a_new_conversation_loads_empty_and_is_not_found_until_a_turn_is_stored(store):
    conversation = store.load(ALICE, "new-one")

    assert (conversation.messages, conversation.version, conversation.exists) == ((), 0, False)
    assert conversation.history(store.limits) == []
    with pytest.raises(ConversationNotFound) as missing:
        store.get(ALICE, "new-one")
    assert (missing.value.status, missing.value.code) == (404, "conversation_not_found")


def test_the_item_is_keyed_by_a_hash_of_the_owner_and_never_holds_the_owner_itself(store, dynamodb):
    turn(store, ALICE, "c1", "hello")

    (item,) = raw_items(dynamodb)
    assert item["pk"] == {"S": hashlib.sha256(ALICE.encode()).hexdigest()} == {"S": owner_key(ALICE)}
    assert item["sk"] == {"S": "c1"}
    stored = json.dumps(item)
    assert ALICE not in stored and "alice@example.com" not in stored and "AppUsers" not in stored


def test_the_store_calls_exactly_the_granted_actions_and_queries_only_the_index(store, dynamodb):
    calls: list[tuple[str, str | None]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, params.get("IndexName")))

    dynamodb.meta.events.register("before-parameter-build.dynamodb", record)
    turn(store, ALICE, "c1", "hello")
    store.list(ALICE)
    store.get(ALICE, "c1")
    store.delete(ALICE, "c1")
    dynamodb.meta.events.unregister("before-parameter-build.dynamodb", record)

    assert {name for name, _ in calls} == GRANTED
    assert {index for name, index in calls if name == "Query"} == {UPDATED_INDEX}
    assert {index for name, index in calls if name != "Query"} == {None}


# --- TTL ---------------------------------------------------------------------------------------------------------------


def test_every_turn_sets_the_ttl_attribute_in_epoch_seconds_from_the_last_turn(store, dynamodb, clock):
    ttl = dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", TTL_ATTRIBUTE)
    days = store.limits.ttl_days

    turn(store, ALICE, "c1", "hello")
    (item,) = raw_items(dynamodb)
    assert item[TTL_ATTRIBUTE] == {"N": str(int(clock.now) + days * SECONDS_PER_DAY)}

    clock.advance(5 * SECONDS_PER_DAY)
    turn(store, ALICE, "c1", "still there?")
    (item,) = raw_items(dynamodb)
    assert item[TTL_ATTRIBUTE] == {"N": str(int(clock.now) + days * SECONDS_PER_DAY)}


def test_an_expired_conversation_is_gone_from_every_read_though_ttl_has_not_deleted_it_yet(store, dynamodb, clock):
    turn(store, ALICE, "old", "hello")
    turn(store, ALICE, "fresh", "hello")
    clock.advance(store.limits.ttl_days * SECONDS_PER_DAY - 1)
    turn(store, ALICE, "fresh", "keep me")  # refreshed a second before "old" expires
    clock.advance(1)  # "old" expires now

    assert len(raw_items(dynamodb)) == 2  # moto, like DynamoDB for up to two days, still holds it
    with pytest.raises(ConversationNotFound):
        store.get(ALICE, "old")
    assert [summary.conversation_id for summary in store.list(ALICE).conversations] == ["fresh"]
    assert store.load(ALICE, "old").history(store.limits) == []


def test_a_turn_on_an_expired_conversation_starts_it_anew_over_the_stale_item(store, clock):
    turn(store, ALICE, "c1", "forgotten")
    clock.advance(store.limits.ttl_days * SECONDS_PER_DAY + 1)

    start = store.load(ALICE, "c1")
    assert not start.exists and start.version > 0  # the next write is conditional on the stale item's version
    store.append(ALICE, start, [user("new start")], "hi")

    conversation = store.get(ALICE, "c1")
    assert contents(conversation) == ["new start", "hi"]
    assert conversation.created_at == int(clock.now * 1000)


# --- isolation between callers ---------------------------------------------------------------------------------------


def test_another_callers_conversation_is_not_found_on_every_route_and_never_touched(store, dynamodb):
    turn(store, ALICE, "shared-id", "Alice's secret", "noted")
    alices = store.get(ALICE, "shared-id")

    for owner in (BOB, API_KEY):
        with pytest.raises(ConversationNotFound):
            store.get(owner, "shared-id")
        with pytest.raises(ConversationNotFound):
            store.delete(owner, "shared-id")
        assert store.list(owner).conversations == ()
        start = store.load(owner, "shared-id")
        assert start.history(store.limits) == []  # chat sends the model nothing of Alice's
        store.append(owner, start, [user(f"{owner} here")], "hello")  # ... and starts the caller's own

    assert store.get(ALICE, "shared-id") == alices  # same messages, same version
    assert contents(store.get(BOB, "shared-id")) == [f"{BOB} here", "hello"]
    assert {item["pk"]["S"] for item in raw_items(dynamodb)} == {owner_key(o) for o in (ALICE, BOB, API_KEY)}


def test_listing_shows_only_the_callers_own_even_with_another_callers_page_token(store, clock):
    for index in range(3):
        turn(store, ALICE, f"alice-{index}", "hi")
        turn(store, BOB, f"bob-{index}", "hi")
        clock.advance(1)
    alice_token = store.list(ALICE, limit=1).next_token
    assert alice_token is not None

    page = store.list(BOB, limit=MAX_PAGE_SIZE, next_token=alice_token)
    assert page.conversations and all(s.conversation_id.startswith("bob-") for s in page.conversations)


def test_a_missing_owner_is_refused_before_any_call_to_dynamodb():
    def no_client() -> Any:
        raise AssertionError("no DynamoDB call may be made without an owner")

    store = ConversationStore(TABLE, client_factory=no_client)
    for owner in (None, ""):
        calls = calls_of(store, owner)  # type: ignore[arg-type]
        for call in (*calls.values(), lambda o=owner: store.get(o, "c1")):
            with pytest.raises(CallerIdentityMissing) as refused:
                call()
            assert (refused.value.status, refused.value.code) == (500, "caller_identity_missing")


# --- delete -------------------------------------------------------------------------------------------------------------


def test_delete_erases_the_item_and_a_second_delete_is_not_found(store, dynamodb):
    turn(store, ALICE, "c1", "erase me")
    turn(store, ALICE, "c2", "keep me")

    store.delete(ALICE, "c1")
    assert [item["sk"]["S"] for item in raw_items(dynamodb)] == ["c2"]
    with pytest.raises(ConversationNotFound):
        store.get(ALICE, "c1")
    with pytest.raises(ConversationNotFound):
        store.delete(ALICE, "c1")


def test_delete_erases_an_expired_conversation_that_ttl_has_not_removed_yet(store, dynamodb, clock):
    turn(store, ALICE, "c1", "expired")
    clock.advance(store.limits.ttl_days * SECONDS_PER_DAY + 1)

    store.delete(ALICE, "c1")
    assert raw_items(dynamodb) == []


# --- concurrent turns ---------------------------------------------------------------------------------------------------


def two_instances(new_store: Any) -> tuple[ConversationStore, Any, ConversationStore]:
    """Two function instances: each store with its own client on the same table (``a``'s client returned too)."""
    a_client = boto3.client("dynamodb", region_name=REGION)
    return new_store(client=a_client), a_client, new_store(client=boto3.client("dynamodb", region_name=REGION))


def test_two_turns_racing_on_one_conversation_are_both_stored(new_store):
    a, a_client, b = two_instances(new_store)
    turn(a, ALICE, "c1", "first", "one")
    start_a, start_b = a.load(ALICE, "c1"), b.load(ALICE, "c1")  # both read version 1
    reads: list[str] = []
    a_client.meta.events.register("before-call.dynamodb.GetItem", lambda **_: reads.append("get"))

    def b_lands_first(**_: Any) -> None:  # between a's read and a's write, b's whole turn is stored
        if not hasattr(b_lands_first, "done"):
            b_lands_first.done = True  # type: ignore[attr-defined]
            b.append(ALICE, start_b, [user("from b")], "reply b")

    a_client.meta.events.register("before-call.dynamodb.PutItem", b_lands_first)
    stored = a.append(ALICE, start_a, [user("from a")], "reply a")

    expected = ["first", "one", "from b", "reply b", "from a", "reply a"]
    assert contents(stored) == contents(b.get(ALICE, "c1")) == expected
    assert stored.version == 3
    assert reads == []  # the lost race returned the winner's item: no second read


def test_a_turn_that_loses_every_race_is_a_409_and_nothing_of_it_is_stored(new_store):
    a, a_client, b = two_instances(new_store)
    turn(a, ALICE, "c1", "first")
    start_a = a.load(ALICE, "c1")
    races = []

    def b_always_first(**_: Any) -> None:
        races.append(1)
        b.append(ALICE, b.load(ALICE, "c1"), [user(f"b{len(races)}")], "ok")

    a_client.meta.events.register("before-call.dynamodb.PutItem", b_always_first)
    with pytest.raises(ConversationStoreError) as conflict:
        a.append(ALICE, start_a, [user("from a")], "reply a")

    assert (conflict.value.status, conflict.value.code) == (409, "conversation_conflict")
    assert len(races) == WRITE_ATTEMPTS
    assert "from a" not in contents(b.get(ALICE, "c1"))
    assert contents(b.get(ALICE, "c1"))[::2] == ["first", *(f"b{n}" for n in range(1, WRITE_ATTEMPTS + 1))]


@pytest.mark.parametrize(
    ("seconds_left", "writes"),
    [
        (STORE_CLIENT.worst_case_seconds + 0.5 + 0.01, 2),  # a second write still fits: the turn is stored
        (STORE_CLIENT.worst_case_seconds + 0.5, 1),  # it does not: 409 after the first, nothing stored
    ],
)
def test_a_write_after_a_lost_race_is_tried_only_while_it_fits_in_the_time_left(new_store, seconds_left, writes):
    a, a_client, b = two_instances(new_store)
    turn(a, ALICE, "c1", "first")
    start_a = a.load(ALICE, "c1")
    attempts: list[int] = []

    def b_lands_first(**_: Any) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            b.append(ALICE, b.load(ALICE, "c1"), [user("from b")], "ok")

    a_client.meta.events.register("before-call.dynamodb.PutItem", b_lands_first)
    if writes == 2:
        stored = a.append(ALICE, start_a, [user("from a")], "reply a", time_left=lambda: seconds_left)
        assert contents(stored)[-2:] == ["from a", "reply a"]
    else:
        with pytest.raises(ConversationStoreError) as conflict:
            a.append(ALICE, start_a, [user("from a")], "reply a", time_left=lambda: seconds_left)
        assert conflict.value.code == "conversation_conflict"
        assert "from a" not in contents(b.get(ALICE, "c1"))
    assert len(attempts) == writes


def test_a_turn_in_flight_when_its_conversation_is_deleted_starts_it_anew(store):
    turn(store, ALICE, "c1", "before")
    start = store.load(ALICE, "c1")
    store.delete(ALICE, "c1")

    stored = store.append(ALICE, start, [user("after")], "ok")
    assert contents(stored) == ["after", "ok"]
    assert contents(store.get(ALICE, "c1")) == ["after", "ok"]


def test_two_new_conversations_with_one_id_racing_keep_both_turns(new_store):
    a, a_client, b = two_instances(new_store)
    start_a, start_b = a.load(ALICE, "c1"), b.load(ALICE, "c1")  # neither exists yet

    def b_creates_it_first(**_: Any) -> None:
        if not b.load(ALICE, "c1").exists:
            b.append(ALICE, start_b, [user("b")], "rb")

    a_client.meta.events.register("before-call.dynamodb.PutItem", b_creates_it_first)

    a.append(ALICE, start_a, [user("a")], "ra")
    assert contents(b.get(ALICE, "c1")) == ["b", "rb", "a", "ra"]


# --- bounded sizes -----------------------------------------------------------------------------------------------------


def test_the_stored_messages_are_bounded_in_number_dropping_the_oldest_exchanges(new_store):
    store = new_store(Limits(max_stored_messages=4))
    for index in range(3):
        turn(store, ALICE, "c1", f"question {index}", f"answer {index}")

    conversation = store.get(ALICE, "c1")
    assert contents(conversation) == ["question 1", "answer 1", "question 2", "answer 2"]
    assert conversation.summary().turns == 4


def test_the_stored_item_is_bounded_in_bytes_as_dynamodb_counts_them(new_store, dynamodb):
    limits = Limits(max_stored_bytes=MIN_STORED_BYTES)
    store = new_store(limits)
    text = "ção" * 8_000  # 24,000 characters, 40,000 bytes of UTF-8
    for index in range(5):
        turn(store, ALICE, "c1", f"{index} {text}", f"reply {index}")

    (item,) = raw_items(dynamodb)
    assert item_size(item) <= limits.max_stored_bytes
    kept = contents(store.get(ALICE, "c1"))
    assert kept[-2:] == [f"4 {text}", "reply 4"]  # the newest exchange is always kept
    assert kept[0].startswith(("2 ", "3 "))  # the oldest whole exchanges went first


def test_a_full_item_at_the_largest_budget_stays_under_dynamodbs_limit(new_store, dynamodb):
    limits = Limits(max_stored_bytes=MAX_STORED_BYTES_CEILING, max_stored_messages=1000)
    store = new_store(limits)
    text = "\U0001f600" * 20_000  # the chat schema's longest message, in 4-byte characters: 80,000 bytes
    for index in range(6):
        turn(store, ALICE, "c1", f"{index}{text}", "ok")

    (item,) = raw_items(dynamodb)  # moto refuses an item over DynamoDB's limit (ValidationException)
    ours = item_size(item)
    moto = sum(len(name.encode()) + DynamoType(value).size() for name, value in item.items())
    assert moto <= ours <= MAX_STORED_BYTES_CEILING < ITEM_LIMIT_BYTES
    assert len(store.get(ALICE, "c1").messages) < 12  # it was trimmed to fit


def test_an_exchange_larger_than_the_budget_is_refused_and_nothing_is_stored(new_store, dynamodb):
    store = new_store(Limits(max_stored_bytes=MIN_STORED_BYTES))

    with pytest.raises(ConversationTooLarge) as refused:
        turn(store, ALICE, "c1", "x" * 70_000, "y" * 70_000)
    assert (refused.value.status, refused.value.code) == (413, "conversation_too_large")
    assert raw_items(dynamodb) == []


def test_item_size_follows_dynamodbs_rules_for_names_strings_numbers_lists_and_maps():
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
    assert item_size({"pk": {"S": "abc"}}) == 2 + 3  # name + UTF-8 bytes
    assert item_size({"n": {"S": "ção"}}) == 1 + 5
    assert item_size({"v": {"N": "12345"}}) == 1 + 3 + 1  # 5 significant digits: 3 bytes, plus 1
    assert item_size({"v": {"N": "1000"}}) == 1 + 1 + 1  # trailing zeroes are trimmed
    assert item_size({"l": {"L": [{"S": "a"}, {"S": "bc"}]}}) == 1 + 3 + (1 + 1) + (1 + 2)
    assert item_size({"m": {"M": {"role": {"S": "user"}}}}) == 1 + 3 + (1 + 4 + 4)


# --- what is sent to the model ------------------------------------------------------------------------------------------


def test_the_history_keeps_the_newest_whole_exchanges_within_the_message_count():
    conversation = Conversation("c1", messages=exchanges(10))

    assert conversation.history(Limits(max_history_messages=4)) == [m.to_body() for m in exchanges(10)[-4:]]
    assert len(conversation.history(Limits(max_history_messages=5))) == 4  # never half an exchange


def test_the_history_keeps_the_newest_whole_exchanges_within_the_byte_budget():
    messages = exchanges(5, size=100)  # 200 bytes an exchange
    conversation = Conversation("c1", messages=messages)

    assert conversation.history(Limits(max_history_bytes=400)) == [m.to_body() for m in messages[-4:]]
    assert conversation.history(Limits(max_history_bytes=399)) == [m.to_body() for m in messages[-2:]]
    assert conversation.history(Limits(max_history_bytes=199)) == []


def test_an_exchange_over_the_byte_budget_leaves_out_everything_older_too():
    messages = (*exchanges(3, size=10), Message("user", "big" * 100), Message("assistant", "ok"))
    conversation = Conversation("c1", messages=messages)

    assert conversation.history(Limits(max_history_bytes=100)) == []


def test_the_history_budget_counts_utf8_bytes():
    messages = (Message("user", "ç" * 50), Message("assistant", "ã" * 50))  # 200 bytes, 100 characters
    conversation = Conversation("c1", messages=messages)

    assert conversation.history(Limits(max_history_bytes=199)) == []
    assert len(conversation.history(Limits(max_history_bytes=200))) == 2


@given(
    st.lists(st.tuples(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30)), max_size=15),
    st.integers(2, 12),
    st.integers(1, 400),
)
def test_the_history_is_the_longest_suffix_of_whole_exchanges_that_fits(pairs, max_messages, max_bytes):
    messages = tuple(m for question, answer in pairs for m in (Message("user", question), Message("assistant", answer)))
    limits = Limits(max_history_messages=max_messages, max_history_bytes=max_bytes)

    history = Conversation("c1", messages=messages).history(limits)

    def size(items: Any) -> int:
        return sum(len(m["content"].encode()) for m in items)

    bodies = [m.to_body() for m in messages]
    assert history == bodies[len(bodies) - len(history) :]  # a suffix
    assert len(history) % 2 == 0 and all(m["role"] == ("user", "assistant")[i % 2] for i, m in enumerate(history))
    assert len(history) <= max_messages and size(history) <= max_bytes
    longer = bodies[len(bodies) - len(history) - 2 :] if len(history) < len(bodies) else None
    if longer is not None:  # the next older exchange would break a budget
        assert len(longer) > max_messages or size(longer) > max_bytes


# --- list -------------------------------------------------------------------------------------------------------------


def test_the_list_is_newest_first_paginated_and_shows_no_messages(store, clock):
    for index in range(5):
        turn(store, ALICE, f"c{index}", "hi")
        clock.advance(1)
    turn(store, ALICE, "c0", "back again")  # c0 is now the most recently updated

    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = store.list(ALICE, limit=2, next_token=token)
        pages += 1
        seen += [summary.conversation_id for summary in page.conversations]
        for body in page.to_body()["conversations"]:
            assert set(body) == {"conversationId", "createdAt", "updatedAt", "turns"}
        token = page.next_token
        if token is None:
            break
    assert seen == ["c0", "c4", "c3", "c2", "c1"]
    assert pages == 3
    assert store.list(ALICE).conversations[0].turns == 4


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not base64!",
        base64.urlsafe_b64encode(b"[1]").decode(),
        base64.urlsafe_b64encode(b'{"u": -1, "c": "c1"}').decode(),
        base64.urlsafe_b64encode(b'{"u": true, "c": "c1"}').decode(),
        base64.urlsafe_b64encode(b'{"u": 1, "c": "../other"}').decode(),
        base64.urlsafe_b64encode(b'{"u": 1}').decode(),
    ],
)
def test_a_page_token_that_this_api_did_not_give_is_a_400(store, token):
    with pytest.raises(ValidationFailed, match="nextToken"):
        store.list(ALICE, next_token=token)


@pytest.mark.parametrize("limit", [0, MAX_PAGE_SIZE + 1, True, "5", 2.0])
def test_a_page_size_out_of_range_is_a_400(store, limit):
    with pytest.raises(ValidationFailed, match="limit"):
        store.list(ALICE, limit=limit)


# --- conversation ids ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "x" * 65, "has space", "a/b", "ção", "new\nline", "abc\n", None, 12])
def test_a_conversation_id_outside_letters_digits_dash_underscore_64_is_a_400_everywhere(store, bad):
    for call in (
        lambda: store.load(ALICE, bad),
        lambda: store.get(ALICE, bad),
        lambda: store.delete(ALICE, bad),
        lambda: store.append(ALICE, Conversation(bad), [user("hi")], "ok"),
    ):
        with pytest.raises(ValidationFailed, match="conversationId"):
            call()


@pytest.mark.parametrize("good", ["a", "A-z_09", "x" * 64, "0b7c1f9e-3c1d-4f58-9a51-2f0f7c9d1e2a"])
def test_conversation_ids_of_letters_digits_dash_underscore_up_to_64_work(store, good):
    turn(store, ALICE, good, "hi")
    assert store.get(ALICE, good).conversation_id == good


# --- invariants, settings, the lazy client ---------------------------------------------------------------------------


def test_the_store_refuses_new_messages_that_would_break_the_alternation(store):
    start = store.load(ALICE, "c1")
    for new in ([{"role": "assistant", "content": "hi"}], [user("a"), user("b")], []):
        with pytest.raises(ValueError):
            store.append(ALICE, start, new, "ok")
    with pytest.raises(ValueError):
        store.append(ALICE, start, [user("hi")], "")


def test_a_malformed_stored_item_is_a_500_not_a_crash(store, dynamodb, clock):
    turn(store, ALICE, "c1", "hi")
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": owner_key(ALICE)}, "sk": {"S": "c1"}},
        UpdateExpression="SET messages = :m",
        ExpressionAttributeValues={":m": {"L": [{"M": {"role": {"S": "user"}, "content": {"S": "dangling"}}}]}},
    )

    with pytest.raises(ConversationStoreError) as broken:
        store.get(ALICE, "c1")
    assert (broken.value.status, broken.value.code, broken.value.upstream) == (
        500,
        "conversation_store_error",
        "MalformedItem",
    )


def test_the_client_is_created_on_first_use_once_even_from_many_threads():
    created: list[int] = []

    def factory() -> Any:
        created.append(1)
        time.sleep(0.01)
        return object()

    store = ConversationStore(TABLE, client_factory=factory)
    assert created == []  # constructing the store made no client
    threads = [threading.Thread(target=lambda: store.client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert created == [1]


def test_the_store_of_the_settings_keeps_its_clients_worst_case_for_the_write_after_the_model_call():
    settings = ConversationSettings("Conversations-1", client=ClientSettings(1, 2, 3, region="eu-west-1"))
    store = ConversationStore.from_settings(settings)

    assert store.table_name == "Conversations-1"
    assert store.worst_case_seconds == settings.client.worst_case_seconds == 3 * 3 + 1 + 2
    assert ConversationStore(TABLE).worst_case_seconds == STORE_CLIENT.worst_case_seconds


# --- DynamoDB's faults (Stubber on a real client: every request is validated against DynamoDB's model) ---------------


@pytest.fixture
def stubbed() -> Any:
    client = conversations.make_client(
        ClientSettings(region=REGION, connect_timeout=1, read_timeout=1, max_attempts=2), validate=True
    )
    store = ConversationStore(TABLE, client_factory=lambda: client)
    with Stubber(client) as stubber:
        yield store, client, stubber
        stubber.assert_no_pending_responses()


def test_every_error_shape_of_the_operations_the_store_calls_maps_to_a_documented_fault():
    for operation in GRANTED:
        names = {shape.name for shape in DYNAMODB_MODEL.operation_model(operation).error_shapes}
        assert names and names <= set(STORE_ERRORS), (operation, sorted(names - set(STORE_ERRORS)))


THROTTLING = ("ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded")
UNAVAILABLE = ("InternalServerError", "ServiceUnavailable")


@pytest.mark.parametrize("operation", ["get_item", "put_item", "delete_item", "query"])
@pytest.mark.parametrize(
    ("code", "status", "error_code"),
    [
        *((code, 429, "conversation_store_throttled") for code in THROTTLING),
        *((code, 503, "conversation_store_unavailable") for code in UNAVAILABLE),
        ("ResourceNotFoundException", 500, "conversation_store_configuration_error"),
        ("AccessDeniedException", 500, "conversation_store_configuration_error"),
        ("UnrecognizedClientException", 500, "conversation_store_configuration_error"),
        ("ValidationException", 500, "conversation_store_error"),
        ("SomeFutureException", 500, "conversation_store_error"),
    ],
)
def test_dynamodb_errors_map_to_documented_statuses(stubbed, operation, code, status, error_code):
    store, _, stubber = stubbed
    http_status = 500 if code in UNAVAILABLE else 400
    stubber.add_client_error(operation, service_error_code=code, http_status_code=http_status)

    with pytest.raises(ConversationStoreError) as failure:
        calls_of(store)[operation]()

    error = failure.value
    assert (error.status, error.code, error.upstream) == (status, error_code, code)
    assert error.headers == ({"Retry-After": "1"} if status == 429 else {})
    shown = json.dumps(error.to_body()) + str(error)
    assert "private" not in shown  # never the caller's text


@pytest.mark.parametrize(
    ("raised", "status", "error_code"),
    [
        (
            ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/"),
            503,
            "conversation_store_unavailable",
        ),
        (
            ConnectTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/"),
            503,
            "conversation_store_unavailable",
        ),
        (
            EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/"),
            503,
            "conversation_store_unavailable",
        ),
        (NoCredentialsError(), 500, "conversation_store_configuration_error"),
    ],
)
def test_timeouts_connection_and_credential_failures_map_to_documented_statuses(stubbed, raised, status, error_code):
    store, client, _ = stubbed

    def fail(**_: Any) -> None:
        raise raised

    client.meta.events.register("provide-client-params.dynamodb", fail)  # before the Stubber sees the call
    for operation, call in calls_of(store).items():
        with pytest.raises(ConversationStoreError) as failure:
            call()
        assert (failure.value.status, failure.value.code) == (status, error_code), operation
        assert failure.value.upstream == type(raised).__name__


def test_conflicts_are_retried_from_the_returned_item_then_a_409(stubbed):
    store, _, stubber = stubbed
    current = {
        "pk": {"S": owner_key(ALICE)},
        "sk": {"S": "c1"},
        "version": {"N": "7"},
        "createdAt": {"N": "1800000000000"},
        "updatedAt": {"N": "1800000000000"},
        TTL_ATTRIBUTE: {"N": str(int(time.time()) + SECONDS_PER_DAY)},
        "turns": {"N": "2"},
        "messages": {"L": [{"M": {"role": {"S": r}, "content": {"S": r}}} for r in ("user", "assistant")]},
    }
    for _ in range(WRITE_ATTEMPTS):
        stubber.add_client_error(
            "put_item",
            service_error_code="ConditionalCheckFailedException",
            http_status_code=400,
            modeled_fields={"Item": current},
        )

    with pytest.raises(ConversationStoreError) as conflict:
        store.append(ALICE, Conversation("c1"), [user("hi")], "ok")
    assert (conflict.value.status, conflict.value.code) == (409, "conversation_conflict")


def test_every_request_the_store_makes_is_valid_against_dynamodbs_model(stubbed):
    """The function's client skips botocore's request check (make_client, for its CPU cost); this client does it,
    on every operation the store calls, with a stored conversation's shape."""
    store, client, stubber = stubbed
    item = conversations._item(owner_key(ALICE), Conversation("c1", exchanges(2), 1, 1, 2), 2_000_000_000)
    stubber.add_response("get_item", {"Item": item})
    stubber.add_response("put_item", {})
    stubber.add_response("get_item", {"Item": item})
    stubber.add_response("delete_item", {})
    page = {"Items": [{key: item[key] for key in ("pk", "sk", "createdAt", "updatedAt", "turns")}]}
    stubber.add_response("query", {**page, "LastEvaluatedKey": {k: item[k] for k in ("pk", "sk", "updatedAt")}})
    stubber.add_response("query", {"Items": []})

    conversation = store.load(ALICE, "c1")
    store.append(ALICE, conversation, [user("more")], "reply")
    store.get(ALICE, "c1")
    store.delete(ALICE, "c1")
    token = store.list(ALICE, limit=1).next_token
    store.list(ALICE, next_token=token)
    assert client.meta.config.parameter_validation is True


def test_the_functions_client_skips_the_check_and_a_validating_one_would_refuse_a_bad_request():
    from botocore.exceptions import ParamValidationError

    bad = {"TableName": TABLE, "Item": {"pk": {"N": 1}}}  # a Number goes as a string: DynamoDB would refuse it
    functions = conversations.make_client(STORE_CLIENT)
    with Stubber(functions) as stubber:
        stubber.add_response("put_item", {})
        functions.put_item(**bad)  # not checked before it is sent
    validating = conversations.make_client(STORE_CLIENT, validate=True)
    with Stubber(validating) as stubber, pytest.raises(ParamValidationError):
        stubber.add_response("put_item", {})
        validating.put_item(**bad)


def test_a_new_message_that_could_never_be_stored_is_refused_before_the_model_is_called(new_store, dynamodb):
    store = new_store(Limits(max_stored_bytes=MIN_STORED_BYTES))
    too_big = [user("x" * MIN_STORED_BYTES)]

    with pytest.raises(ConversationTooLarge):
        conversations.begin_turn(store, ALICE, "c1", too_big)  # before the load: nothing read, nothing to send
    assert raw_items(dynamodb) == []
    assert conversations.begin_turn(store, ALICE, "c1", [user("x" * 1000)]).history == ()


def test_a_turn_begins_with_the_id_checked_then_the_caller_then_the_history_it_sends(store, clock):
    with pytest.raises(ValidationFailed):
        conversations.begin_turn(store, None, "not an id!", [user("a")])  # the caller's mistake first
    with pytest.raises(CallerIdentityMissing):
        conversations.begin_turn(store, None, "c1", [user("a")])
    turn(store, ALICE, "c1", "first", "one")

    begun = conversations.begin_turn(store, ALICE, "c1", [user("second")])

    assert begun.history == ({"role": "user", "content": "first"}, {"role": "assistant", "content": "one"})
    assert begun.messages() == [*begun.history, user("second")]
    assert contents(begun.remember("two")) == ["first", "one", "second", "two"]


@given(st.sampled_from(conversations.ROLES), st.text(max_size=200))
def test_a_stored_messages_size_is_the_size_dynamodb_counts_for_its_map(role, content):
    message = Message(role, content)

    assert conversations.message_size(message) == conversations.attribute_size(conversations._message_value(message))
