"""Smoke test of a deployed API: send every example request, signed with SigV4, and print what came back.

    make smoke                                   # after `make deploy`, with the same credentials and region
    python -m tools.smoke --stack-name MyAppApi  # another deployment (stackName in cdk.json + "Api")

It reads the API's URL from the stack's ``ApiUrl`` output (CloudFormation), signs each request with the caller's
credentials (botocore's SigV4, service ``execute-api``), sends ``examples/<family>/<task>.json`` (or any JSON file
under ``examples/<family>/<task>/``) to ``POST <ApiUrl><family>/<task>``, and prints one row per request: route,
status, latency, tokens and stop reason. A route of the catalog without an example gets a minimal request built
from its input schema. Exits 1 if any request fails (anything but a 200 with the route's answer) or nothing could
be sent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from stacks.catalog import Route, load_routes
from tools.schema_samples import sample

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DEFAULT_STACK = "GenAiReferenceApi"
TIMEOUT_SECONDS = 35.0  # above API Gateway's 29-second integration timeout


class SmokeError(Exception):
    """The smoke test cannot run at all (no stack output, no credentials...)."""


@dataclass(frozen=True)
class Example:
    route: str  # /family/task
    source: str  # the file, relative to the repository, or "generated"
    body: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    example: Example
    status: int | None  # None: no HTTP response at all
    latency_ms: int
    body: dict[str, Any] | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return (
            self.status == 200
            and isinstance(self.body, dict)
            and self.body.get("useCase") == self.example.route.lstrip("/")
        )

    def detail(self) -> tuple[str, str, str]:
        """Input tokens, output tokens and stop reason, or what went wrong."""
        body = self.body or {}
        if self.ok:
            usage = body.get("usage", {})
            return (
                str(usage.get("inputTokens", "?")),
                str(usage.get("outputTokens", "?")),
                str(body.get("stopReason", "?")),
            )
        error = body.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        return "-", "-", str(code or self.error or "unexpected response")


# --- the requests -------------------------------------------------------------------------------------------------


def minimal_value(schema: dict[str, Any]) -> Any:
    """A short, valid request for a route that has no example yet (best effort)."""
    return sample(schema, text="Smoke test: please answer in one short sentence.", min_items=1)


def find_examples(examples_dir: Path, routes: Sequence[Route]) -> list[Example]:
    """Every example file, then a generated request for each route of the catalog that has none."""
    found: list[Example] = []
    for path in sorted(examples_dir.rglob("*.json")):
        relative = path.relative_to(examples_dir)
        if len(relative.parts) < 2:
            continue  # not under examples/<family>/
        family, task = relative.parts[0], relative.parts[1].removesuffix(".json")
        body = json.loads(path.read_text(encoding="utf-8"))
        source = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
        found.append(Example(f"/{family}/{task}", source, body))
    covered = {example.route for example in found}
    for route in routes:
        if route.path not in covered:
            found.append(Example(route.path, "generated", minimal_value(route.input_schema)))
    return found


def api_url(cloudformation: Any, stack_name: str) -> str:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except Exception as error:  # botocore's ClientError, NoCredentialsError, EndpointConnectionError...
        raise SmokeError(f"cannot describe stack {stack_name!r}: {error}") from error
    for output in stacks[0].get("Outputs", []) if stacks else []:
        if output["OutputKey"] == "ApiUrl":
            return str(output["OutputValue"])
    raise SmokeError(f"stack {stack_name!r} has no ApiUrl output (is it the API stack, and is it deployed?)")


def region_of(url: str, default: str | None) -> str:
    """The region in an execute-api host (abc123.execute-api.us-east-1.amazonaws.com), else ``default``."""
    parts = (urlsplit(url).hostname or "").split(".")
    if len(parts) > 3 and parts[1] == "execute-api":
        return parts[2]
    if not default:
        raise SmokeError("no AWS region: set AWS_REGION (or a profile with a region)")
    return default


def signed_headers(
    method: str, url: str, data: bytes | None, credentials: Any, region: str, headers: dict[str, str] | None = None
) -> dict[str, str]:
    """``headers`` plus the SigV4 ones (X-Amz-Date, the session token, Authorization) for ``execute-api`` in
    ``region``. Send exactly these (the Host header is the URL's): API Gateway recomputes the signature over them."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    signed = AWSRequest(method=method, url=url, data=data, headers=dict(headers or {}))
    SigV4Auth(credentials, "execute-api", region).add_auth(signed)
    return dict(signed.headers.items())


def aws_session(region: str | None) -> Any:
    """A boto3 session in ``region``, else AWS_REGION (which the CDK CLI honours), else boto3's own choice
    (AWS_DEFAULT_REGION or the profile's region)."""
    import boto3

    return boto3.Session(region_name=region or os.environ.get("AWS_REGION") or None)


def send(example: Example, base_url: str, credentials: Any, region: str, timeout: float) -> Outcome:
    """POST the example, signed with SigV4 for execute-api; never raises for an HTTP or network failure."""
    url = base_url.rstrip("/") + example.route
    data = json.dumps(example.body, ensure_ascii=False).encode("utf-8")
    headers = signed_headers("POST", url, data, credentials, region, {"Content-Type": "application/json"})
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (urllib.error.URLError, OSError) as error:
        return Outcome(example, None, round((time.perf_counter() - started) * 1000), None, f"no response: {error}")
    latency_ms = round((time.perf_counter() - started) * 1000)
    try:
        body = json.loads(raw)
    except ValueError:
        return Outcome(example, status, latency_ms, None, "response is not JSON")
    return Outcome(example, status, latency_ms, body if isinstance(body, dict) else None)


# --- the report ---------------------------------------------------------------------------------------------------

COLUMNS = ("route", "example", "status", "latency_ms", "in_tokens", "out_tokens", "stop_reason / error")


def table(outcomes: Sequence[Outcome]) -> str:
    rows = [COLUMNS] + [
        (o.example.route, o.example.source, str(o.status or "-"), str(o.latency_ms), *o.detail()) for o in outcomes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def run(
    *,
    stack_name: str,
    cloudformation: Any,
    credentials: Any,
    default_region: str | None,
    examples_dir: Path = EXAMPLES,
    routes: Sequence[Route] | None = None,
    timeout: float = TIMEOUT_SECONDS,
    out: IO[str] = sys.stdout,
) -> int:
    """The whole smoke test; returns the exit code (0: every request succeeded)."""
    try:
        base_url = api_url(cloudformation, stack_name)
        if credentials is None:
            raise SmokeError("no AWS credentials: the API requires SigV4-signed requests")
        region = region_of(base_url, default_region)
        examples = find_examples(examples_dir, load_routes() if routes is None else routes)
        if not examples:
            raise SmokeError(f"no example requests under {examples_dir}")
    except SmokeError as error:
        print(f"smoke: {error}", file=out)
        return 1
    print(f"smoke: {len(examples)} request(s) to {base_url} ({region})", file=out)
    outcomes = [send(example, base_url, credentials, region, timeout) for example in examples]
    print(table(outcomes), file=out)
    failed = [o for o in outcomes if not o.ok]
    print(f"smoke: {len(outcomes) - len(failed)} of {len(outcomes)} request(s) succeeded", file=out)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", default=DEFAULT_STACK, help=f"the API stack (default: {DEFAULT_STACK})")
    parser.add_argument("--region", help="default: the region of your AWS configuration")
    parser.add_argument("--examples", type=Path, default=EXAMPLES, help="folder of <family>/<task>.json requests")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds to wait for each response")
    args = parser.parse_args(argv)

    session = aws_session(args.region)
    if not session.region_name:
        print(
            "smoke: no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a profile's region) or pass --region",
            file=sys.stderr,
        )
        return 1
    credentials = session.get_credentials()
    return run(
        stack_name=args.stack_name,
        cloudformation=session.client("cloudformation"),
        credentials=credentials.get_frozen_credentials() if credentials else None,
        default_region=session.region_name,
        examples_dir=args.examples,
        timeout=args.timeout,
    )


if __name__ == "__main__":
    sys.exit(main())
