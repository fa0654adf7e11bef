"""The Bedrock client's timeouts and attempts, and the arithmetic of the timeout chain: one home for both sides.

The function reads its client settings from the environment (``settings.py``) and, before each model call, lets
``attempts_that_fit`` say how many attempts the time left allows (``service.py``). The stack checks at synth what
must always hold (``stacks/config.py``: ``shortest_function_timeout``). Both import this module, so it is pure:
standard library only, no boto3 (the stack imports it).

What one model call can cost, at worst:

- one attempt: ``connect_timeout + read_timeout`` (botocore's socket timeouts: a Converse answer comes in one piece
  after the model has finished, so the read timeout bounds the wait for it);
- ``max_attempts`` attempts (botocore's ``standard`` retry mode): each attempt's worst case, plus botocore's jittered
  backoff before each retry at its largest (1 s before the second attempt, then 2 s, 4 s..., at most 20 s).
  A retry-after hint the service may send is not counted (recent botocore honours it for at most 5 s more).

After the call, the function still has to answer: ``ANSWER_MARGIN_SECONDS`` is kept free for that, plus a reserve
for whatever work the caller of ``attempts_that_fit`` does after the model call.
"""

from __future__ import annotations

from typing import NamedTuple

ANSWER_MARGIN_SECONDS = 0.5  # kept free after a model call's worst case: shaping, logging and sending the answer
BACKOFF_BASE_SECONDS = 1  # botocore's standard retry mode: at most base x 2 ** (retry - 1) before each retry,
BACKOFF_CAP_SECONDS = 20  # capped at 20 s (botocore/retries/standard.py, ExponentialBackoff)


class ClientSettings(NamedTuple):
    """A Bedrock client's timeouts (seconds) and attempts: the bedrock-runtime client's are the stack's ``bedrock*``
    context keys, the knowledge base's are ``RETRIEVAL_CLIENT``, the uploads store's ``STORAGE_CLIENT``."""

    connect_timeout: float
    read_timeout: float
    max_attempts: int
    region: str | None = None

    def single_attempt(self) -> ClientSettings:
        """The same timeouts with no botocore retry: a client whose worst case is one attempt."""
        return self._replace(max_attempts=1)

    @property
    def attempt_seconds(self) -> float:
        """The worst case of one attempt."""
        return self.connect_timeout + self.read_timeout

    @property
    def worst_case_seconds(self) -> float:
        """The worst case of a call with every attempt: the attempts and botocore's backoff between them."""
        return self.max_attempts * self.attempt_seconds + backoff_seconds(self.max_attempts)


# The knowledge base's client (bedrock-agent-runtime, for Retrieve): a search is an embedding and a vector query, well
# under a second when the service is healthy. It runs before the model call, so its worst case (13 s) is time that
# call no longer has: the stack checks that one model attempt still fits after it (``search_and_one_attempt``).
RETRIEVAL_CLIENT = ClientSettings(connect_timeout=2, read_timeout=4, max_attempts=2)
# The uploads store's client (genai_core.uploads: one S3 GetObject per upload a request names): short timeouts and one
# retry, so that reading an upload and then one Bedrock attempt fit in the function's timeout (stacks/config.py checks
# it at synth; the service checks the time left before each read).
STORAGE_CLIENT = ClientSettings(connect_timeout=1, read_timeout=3, max_attempts=2)


def backoff_seconds(attempts: int) -> float:
    """The longest botocore's standard mode waits in all, between ``attempts`` attempts."""
    return float(sum(min(BACKOFF_BASE_SECONDS * 2**retry, BACKOFF_CAP_SECONDS) for retry in range(attempts - 1)))


def attempts_that_fit(client: ClientSettings, seconds_left: float | None, reserve_seconds: float = 0.0) -> int:
    """How many attempts a model call may make with ``seconds_left`` before the deadline: every attempt of the
    client (``client.max_attempts``) when its worst case, the reserve for the work after the call and the answer's
    margin all fit; else 1 when one attempt and the same fit; else 0 (the call must not be made). No deadline
    (``None``): every attempt."""
    if seconds_left is None:
        return client.max_attempts
    after_the_call = reserve_seconds + ANSWER_MARGIN_SECONDS
    if seconds_left > client.worst_case_seconds + after_the_call:
        return client.max_attempts
    if seconds_left > client.attempt_seconds + after_the_call:
        return 1
    return 0


def shortest_function_timeout(client: ClientSettings) -> float:
    """What must always hold, checked at synth: a function timeout above this leaves room, on a fresh invocation,
    for one attempt and the answer's margin (``shortest_function_timeout(client) < function timeout < API Gateway's
    integration timeout``). More attempts are made only when the time left allows them (``attempts_that_fit``)."""
    return client.attempt_seconds + ANSWER_MARGIN_SECONDS


def longest_call_seconds(client: ClientSettings) -> float:
    """A model call with every attempt, and the answer's margin: what the streaming function's timeout must exceed
    (a stream starts with every attempt of the client, with no deadline check: its function has minutes)."""
    return client.worst_case_seconds + ANSWER_MARGIN_SECONDS


def search_and_one_attempt(client: ClientSettings, retrieval: ClientSettings = RETRIEVAL_CLIENT) -> float:
    """A task that searches the knowledge base first: the search's worst case, then one model attempt and the
    answer's margin. What the buffered function's timeout must exceed when the stack has a knowledge base."""
    return retrieval.worst_case_seconds + shortest_function_timeout(client)
