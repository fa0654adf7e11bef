"""What the stack and the function share about server-side conversations: the table's names and the actions on
it, the limits and their ranges, and the store's client.

One home for each fact that crosses the boundary: ``stacks/components/conversations_table.py`` builds the table and
its grant from these names, ``stacks/conversations_config.py`` checks the ``conversations`` context key against
these ranges, and the environment that carries them to the function is named and read in ``genai_core/settings.py``
(written by ``stacks/function_env.py``). So this module is pure: standard library
and the project's pure modules only (the stacks import it; ``tests/test_app.py`` checks that synth imports no boto3).
The store itself, which needs botocore, is ``genai_core/conversations.py``, imported on the first remembered turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from genai_core.jsonbody import MAX_BODY_BYTES
from genai_core.limits import ClientSettings
from genai_core.prompts import MAX_PROMPT_CHARS

# --- the table -----------------------------------------------------------------------------------------------------

PARTITION_KEY = "pk"  # String: the SHA-256 (hex) of the owner
SORT_KEY = "sk"  # String: the conversation id
TTL_ATTRIBUTE = "expiresAt"  # Number: epoch seconds
UPDATED_INDEX = "byUpdated"  # GSI: partition PARTITION_KEY, sort UPDATED_ATTRIBUTE
UPDATED_ATTRIBUTE = "updatedAt"  # Number: epoch milliseconds of the last turn
INDEX_PROJECTION = ("createdAt", "turns", TTL_ATTRIBUTE)  # besides the keys: what a list shows and filters on
# Exactly the DynamoDB actions the store calls: on the table, and on its one index.
TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")
INDEX_ACTIONS = ("dynamodb:Query",)
CONVERSATION_ID_PATTERN = r"[A-Za-z0-9_-]{1,64}"  # the API's conversationId: letters, digits, - and _

# --- the limits and their ranges -------------------------------------------------------------------------------------

ITEM_LIMIT_BYTES = 400 * 1024  # DynamoDB's maximum item size (attribute names count), not raisable
# The most that Limits.max_stored_bytes may be: the rest of the 400 KB is headroom for the size estimate's rounding.
MAX_STORED_BYTES_CEILING = 350_000
# The least: one exchange at the chat schema's largest (20,000 characters, up to 80,000 bytes of UTF-8) and a reply.
MIN_STORED_BYTES = 131_072
# The most history a turn may send: with the largest request body beside it and 64 KiB left for the system prompt,
# the rendered prompt stays under its hard cap (prompts.MAX_PROMPT_CHARS; a byte is at most one character).
MAX_HISTORY_BYTES_CEILING = MAX_PROMPT_CHARS - MAX_BODY_BYTES - 64 * 1024
MIN_HISTORY_BYTES = 1
TTL_DAYS_RANGE = (1, 365)
STORED_MESSAGES_RANGE = (2, 1_000)  # at least one exchange; a message is at least a few bytes of the item
HISTORY_MESSAGES_RANGE = (2, 200)
STORED_BYTES_RANGE = (MIN_STORED_BYTES, MAX_STORED_BYTES_CEILING)
HISTORY_BYTES_RANGE = (MIN_HISTORY_BYTES, MAX_HISTORY_BYTES_CEILING)


def _in_range(name: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}")


@dataclass(frozen=True)
class Limits:
    """How long a conversation lives and how much of it is kept and sent.

    - ``ttl_days``: a conversation expires this many days after its last turn.
    - ``max_stored_messages`` / ``max_stored_bytes``: what the item keeps (the bytes are DynamoDB's own item size:
      attribute names, UTF-8 text, list and map overheads). The oldest whole exchanges go first.
    - ``max_history_messages`` / ``max_history_bytes``: what a turn sends to the model before its new messages (the
      bytes are the UTF-8 length of the messages' text: about four bytes a token in English, fewer tokens per byte
      in Portuguese, so the budget errs on the small side).
    """

    ttl_days: int = 30
    max_stored_messages: int = 100
    max_stored_bytes: int = 300_000
    max_history_messages: int = 40
    max_history_bytes: int = 96_000

    def __post_init__(self) -> None:
        _in_range("ttl_days", self.ttl_days, TTL_DAYS_RANGE)
        _in_range("max_stored_messages", self.max_stored_messages, STORED_MESSAGES_RANGE)
        _in_range("max_stored_bytes", self.max_stored_bytes, STORED_BYTES_RANGE)
        _in_range("max_history_messages", self.max_history_messages, HISTORY_MESSAGES_RANGE)
        _in_range("max_history_bytes", self.max_history_bytes, HISTORY_BYTES_RANGE)


# --- the store's DynamoDB client ---------------------------------------------------------------------------------------

# DynamoDB answers in milliseconds: short timeouts and one retry (botocore's standard mode, which backs off on
# throttling), so that a chat turn's two store calls stay small beside the Bedrock call in the Lambda timeout. Its
# worst case (``STORE_CLIENT.worst_case_seconds``: 2 x (1 + 1) + 1 s of backoff = 5 s) is what a turn keeps in
# reserve for its write after the model call (``service.py``), and what the stack's timeout checks count.
STORE_CLIENT = ClientSettings(connect_timeout=1, read_timeout=1, max_attempts=2)


class ConversationSettings(NamedTuple):
    """The table, the limits, the store's client and the models that take prompt cache points (the function reads them
    from its environment: ``genai_core/settings.py``, ``conversation_settings``)."""

    table_name: str
    limits: Limits = Limits()
    client: ClientSettings = STORE_CLIENT
    prompt_cache_models: frozenset[str] = frozenset()
