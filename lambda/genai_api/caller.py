"""Who a request belongs to: the caller as API Gateway authenticated it, read from the request context.

Data that belongs to a caller (uploads, conversations) is bound to this value, so it must be something the caller
cannot choose: never a body field, never a header of the request. API Gateway puts the identity it authenticated in
``requestContext.identity`` of the REST proxy event (``handler.py``), and the Lambda Web Adapter forwards the same
request context as the JSON ``x-amzn-request-context`` header (``stream_app.py``). Which field to trust follows from
the API's authorization mode, which the stack passes in ``AUTH_MODE`` (``cdk.json`` ``authMode``):

- ``iam``: ``identity.userArn``, the IAM principal that signed the request with SigV4:
  ``arn:aws:iam::123456789012:user/alice``, or ``arn:aws:sts::123456789012:assumed-role/<role>/<session>`` for an
  assumed role (the session name is part of it: two sessions of one role with different names are two callers);
- ``api-key``: ``identity.apiKeyId``, the id of the API key the request carried. Never ``identity.apiKey``: that
  is the key itself, a secret.

The owner is that value behind a prefix of its mode (``iam:arn:aws:...``, ``apikey:<id>``), so that an ARN and a key
id can never name the same owner. ``None`` when the context has no identity for the mode (the function invoked
directly, not through API Gateway). It is an opaque string for the core, and it is never logged (API Gateway's access
log already records ``userArn`` and ``apiKeyId`` per request).

An adapter module (API Gateway shapes are not the core's business); standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

VARIABLE = "AUTH_MODE"  # the function's environment variable (stacks/function_env.py sets it)
IAM = "iam"
API_KEY = "api-key"
AUTH_MODES = (IAM, API_KEY)
# mode -> (the identity field API Gateway fills in for it, the prefix of the owner)
IDENTITY_FIELDS: Mapping[str, tuple[str, str]] = {IAM: ("userArn", "iam:"), API_KEY: ("apiKeyId", "apikey:")}


def auth_mode_from(environ: Mapping[str, str]) -> str:
    """The API's authorization mode, from ``AUTH_MODE``. Missing or unknown is a deployment error: with no mode there
    is no field to trust, so the function refuses to start rather than guess."""
    mode = environ.get(VARIABLE, "")
    if mode not in AUTH_MODES:
        raise RuntimeError(f"{VARIABLE} must be one of {', '.join(AUTH_MODES)}; got {mode!r}")
    return mode


def owner(request_context: Any, auth_mode: str) -> str | None:
    """The owner of a request, from API Gateway's request context (a mapping, or anything else: then None)."""
    field, prefix = IDENTITY_FIELDS[auth_mode]
    identity = request_context.get("identity") if isinstance(request_context, Mapping) else None
    value = identity.get(field) if isinstance(identity, Mapping) else None
    return prefix + value if isinstance(value, str) and value else None
