"""genai_core/limits.py: the Bedrock client's worst cases and the choice of attempts, pure arithmetic.

The service's use of the choice (which client answers, with a stubbed client and a fake clock) is in
test_service.py; the synth check in test_config.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genai_core import limits
from genai_core.limits import ANSWER_MARGIN_SECONDS, ClientSettings, attempts_that_fit
from stacks.config import load_config
from tests.support import cdk_context

CLIENT = ClientSettings(connect_timeout=2, read_timeout=11, max_attempts=3)


def test_one_attempt_is_the_connect_and_the_read_timeout():
    assert CLIENT.attempt_seconds == 13
    assert CLIENT.single_attempt() == ClientSettings(2, 11, 1)
    assert CLIENT.single_attempt().worst_case_seconds == 13  # no retry, no backoff


@pytest.mark.parametrize(
    ("attempts", "backoff"), [(1, 0), (2, 1), (3, 1 + 2), (4, 1 + 2 + 4), (7, 1 + 2 + 4 + 8 + 16 + 20)]
)
def test_every_attempt_adds_botocores_longest_backoff_capped_at_20_seconds(attempts, backoff):
    client = ClientSettings(2, 11, attempts)

    assert limits.backoff_seconds(attempts) == backoff
    assert client.worst_case_seconds == attempts * 13 + backoff


def test_the_backoff_is_botocores_standard_mode_at_its_longest():
    """The bound is botocore's own: its standard retry mode, for a throttling error (the longest base), with the
    random factor at 1 (a retry-after hint aside, which limits.py says it does not count)."""
    from botocore.retries.standard import ExponentialBackoff, RetryContext

    class Throttling:
        def is_throttling_error_from_context(self, context: RetryContext) -> bool:
            return True

    backoff = ExponentialBackoff(random=lambda: 1.0, throttling_detector=Throttling())
    waits = [backoff.delay_amount(RetryContext(attempt_number=number)) for number in range(1, 7)]

    assert sum(waits) == limits.backoff_seconds(7)


def test_no_deadline_allows_every_attempt():
    assert attempts_that_fit(CLIENT, None) == CLIENT.max_attempts
    assert attempts_that_fit(CLIENT, None, reserve_seconds=600) == CLIENT.max_attempts


@pytest.mark.parametrize("reserve", [0.0, 2.5])
def test_the_time_left_allows_every_attempt_one_or_none(reserve):
    every = CLIENT.worst_case_seconds + reserve + ANSWER_MARGIN_SECONDS
    one = CLIENT.attempt_seconds + reserve + ANSWER_MARGIN_SECONDS

    assert attempts_that_fit(CLIENT, every + 0.001, reserve) == CLIENT.max_attempts
    assert attempts_that_fit(CLIENT, every, reserve) == 1  # exactly the worst case leaves nothing: not enough
    assert attempts_that_fit(CLIENT, one + 0.001, reserve) == 1
    assert attempts_that_fit(CLIENT, one, reserve) == 0
    assert attempts_that_fit(CLIENT, 0, reserve) == 0
    assert attempts_that_fit(CLIENT, -1, reserve) == 0


@given(seconds_left=st.floats(min_value=0, max_value=120), reserve=st.floats(min_value=0, max_value=30))
def test_the_attempts_chosen_always_fit_in_the_time_left(seconds_left, reserve):
    attempts = attempts_that_fit(CLIENT, seconds_left, reserve)

    assert attempts in (0, 1, CLIENT.max_attempts)
    if attempts:
        worst = CLIENT.worst_case_seconds if attempts == CLIENT.max_attempts else CLIENT.attempt_seconds
        assert worst + reserve + ANSWER_MARGIN_SECONDS < seconds_left
    # And fewer attempts than fit are never chosen.
    if CLIENT.attempt_seconds + reserve + ANSWER_MARGIN_SECONDS < seconds_left:
        assert attempts >= 1


def test_with_cdk_jsons_defaults_a_fresh_invocation_makes_every_attempt():
    config = load_config(cdk_context())

    assert attempts_that_fit(config.bedrock, config.function.timeout_seconds - 0.1) == config.bedrock.max_attempts
    assert limits.shortest_function_timeout(config.bedrock) < config.function.timeout_seconds


def test_the_shortest_timeouts_are_one_attempt_or_every_attempt_and_the_answers_margin():
    assert limits.shortest_function_timeout(CLIENT) == 13 + ANSWER_MARGIN_SECONDS
    assert limits.longest_call_seconds(CLIENT) == 3 * 13 + 3 + ANSWER_MARGIN_SECONDS
