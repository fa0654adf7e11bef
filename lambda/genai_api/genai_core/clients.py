"""How the function makes an AWS client: one home for the four (Bedrock's, the knowledge base's, the uploads store's
and the conversation store's).

Every client is botocore's own, made from a botocore session, never boto3's. boto3 adds resources and s3transfer on
top of botocore, and the function uses neither; importing boto3 costs a cold start about 20 ms of CPU (``make bench``,
docs/PERFORMANCE.md), while botocore is imported anyway (the Tracer patches it). The clients are the same objects
boto3 would give: the same service models, credential chain (the function's role, from the environment), region
lookup, retries and Stubber support.

Every client has its settings' timeouts and attempts (botocore's ``standard`` retry mode, whose worst case
``limits.ClientSettings.worst_case_seconds`` counts) and the project's user agent; a caller adds its own options
(S3's signature version, DynamoDB's parameter validation).

Every client comes from one botocore session per container, as boto3's clients come from its default session: the
service models, endpoint rules and defaults are read from disk and parsed once, and so is botocore's scan of every
service's folder that comes before the first model it loads. A client made on first use then costs about 27 ms of
CPU rather than about 100 ms from a session of its own (measured on this machine). A session is not safe to use from
two threads at once (the streaming function answers requests in threads), so clients are made under a lock; the
clients themselves are thread-safe.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import botocore.session
from botocore.config import Config

from genai_core.limits import ClientSettings

USER_AGENT_EXTRA = "genai-reference-architecture"  # in every request's User-Agent: this project's calls in CloudTrail
_LOCK = threading.Lock()  # held while a client is made: a botocore session is not thread-safe


def make_client(
    service: str, settings: ClientSettings, *, session: botocore.session.Session | None = None, **options: Any
) -> Any:
    """A ``service`` client with ``settings``' timeouts, attempts and region (None: the environment's, as boto3
    would find it), from ``session`` (default: the container's ``shared_session()``), with more ``Config``
    ``options``. Typed ``Any``: the caller annotates it with the service's client type."""
    config = Config(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retries={"total_max_attempts": settings.max_attempts, "mode": "standard"},
        user_agent_extra=USER_AGENT_EXTRA,
        **options,
    )
    with _LOCK:
        return (session or shared_session()).create_client(service, region_name=settings.region, config=config)


@functools.cache
def shared_session() -> botocore.session.Session:
    """The container's botocore session (the function's credentials, from the environment); called under ``_LOCK``."""
    return botocore.session.get_session()
