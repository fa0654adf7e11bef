"""``make diagram``: the architecture as an SVG image, drawn from the synthesized templates.

    make diagram                      # writes docs/architecture.svg
    .venv/bin/python -m tools.diagram --check   # exit 1 if the committed image is stale

No Graphviz or any other system dependency: the layout is computed here, in whole pixels, from what the templates
hold — the REST API's routes (grouped by family), authorization, validation and throttling; one box per Lambda
function with the routes it serves; the knowledge base (its index, embedding model and chunking, and the function that
may search it); the DynamoDB tables and what the functions may do on them; the guardrail's policies; the models per
family (the function's ``MODEL_IDS``); the log groups; and the monitoring stack's dashboard, alarms and topic. A new
route or function appears without a
change here. The same templates give the same bytes (a test compares the committed image with a fresh one).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from stacks.function_env import POWERTOOLS_METRICS_NAMESPACE
from tools import templates as t
from tools.assembly import ROOT, cdk_json_context, synthesize
from tools.generated import write_or_check

OUTPUT = ROOT / "docs" / "architecture.svg"

FONT = "Helvetica, Arial, sans-serif"
TITLE_SIZE, TEXT_SIZE, SMALL_SIZE = 13, 12, 11
LINE = 17  # line height of body text
HEADER = 26  # height of a box's title bar
PAD = 10
GAP = 56  # between columns (room for an arrow and its label)
COLORS = {
    "client": "#545B64",
    "waf": "#DD344C",
    "api": "#8C4FFF",
    "lambda": "#ED7100",
    "bedrock": "#01A88D",
    "dynamodb": "#C925D1",
    "logs": "#E7157B",
    "xray": "#8C4FFF",
    "monitoring": "#E7157B",
    "sns": "#E7157B",
    "s3": "#7AA116",
    "stack": "#7D8998",
}
LIGHT = {
    "client": "#F2F3F3",
    "waf": "#FCEBEE",
    "api": "#F3EDFF",
    "lambda": "#FEF1E6",
    "bedrock": "#E6F6F3",
    "dynamodb": "#FAE9FB",
    "logs": "#FDE8F1",
    "xray": "#F3EDFF",
    "monitoring": "#FDE8F1",
    "sns": "#FDE8F1",
    "s3": "#F2F8E8",
}


def text_width(text: str, size: int, bold: bool = False, mono: bool = False) -> int:
    """A generous estimate of rendered width (sans-serif averages about 0.55 em; bold and capitals run wider)."""
    if mono:
        return int(len(text) * 0.61 * size) + 1
    em = 0.0
    for char in text:
        if char in "il.,:;|!'` ":
            em += 0.32
        elif char.isupper() or char in "mwMW@%&":
            em += 0.76
        else:
            em += 0.6
    return int(em * size * (1.1 if bold else 1.0)) + 1


@dataclass(frozen=True)
class Line:
    text: str
    style: str = "normal"  # normal, bold, muted, mono

    @property
    def size(self) -> int:
        return SMALL_SIZE if self.style in ("muted", "mono") else TEXT_SIZE

    @property
    def width(self) -> int:
        return text_width(self.text, self.size, self.style == "bold", self.style == "mono")


@dataclass
class Box:
    key: str
    title: str
    lines: list[Line]
    kind: str
    x: int = 0
    y: int = 0
    w: int = 0
    h: int = 0
    min_w: int = 0

    def measure(self) -> None:
        widest = max([text_width(self.title, TITLE_SIZE, True)] + [line.width for line in self.lines])
        self.w = max(self.w, self.min_w, widest + 2 * PAD)
        self.h = HEADER + PAD + LINE * len(self.lines) + (PAD // 2 if self.lines else 0)

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2


@dataclass
class Arrow:
    points: list[tuple[int, int]]
    label: str = ""
    dashed: bool = False
    label_at: tuple[int, int] | None = None
    anchor: str = "middle"


@dataclass
class Diagram:
    boxes: list[Box] = field(default_factory=list)
    groups: list[tuple[str, int, int, int, int]] = field(default_factory=list)  # (label, x, y, w, h)
    arrows: list[Arrow] = field(default_factory=list)
    notes: list[tuple[int, int, str, str]] = field(default_factory=list)  # (x, y, text, anchor)


# --- what to draw -----------------------------------------------------------------------------------------------


def short_id(logical_id: str) -> str:
    """A CDK logical id without its 8-hex-digit hash: GenAiFunctionEF833D05 -> GenAiFunction."""
    return re.sub(r"[0-9A-F]{8}$", "", logical_id) or logical_id


def wrap(words: Sequence[str], width: int, separator: str = " · ", indent: str = "  ") -> list[str]:
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current}{separator}{word}" if current else word
        if current and len(indent + candidate) > width:
            lines.append(indent + current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(indent + current)
    return lines


def api_boxes(templates: t.Templates) -> tuple[Box | None, Box, list[tuple[str, list[t.ApiRoute]]]]:
    routes = t.api_routes(templates)
    stages = t.stages(templates)
    stage = stages[0] if stages else None
    labels = sorted({route.auth_label for route in routes})
    if labels == ["AWS_IAM"]:
        auth = f"IAM auth (SigV4) on all {len(routes)} methods"
    elif labels == ["API key"]:
        auth = f"API key + usage plan on all {len(routes)} methods"
    else:
        auth = "auth: " + ", ".join(f"{label} on {sum(1 for r in routes if r.auth_label == label)}" for label in labels)
    bodies = [r for r in routes if r.method in ("POST", "PUT", "PATCH")]
    validated = sum(1 for r in bodies if r.request_model and r.validator)
    throttle = stage.throttle_for("*", "/*") if stage else None
    lines = [Line(auth, "bold")]
    lines.append(
        Line(
            f"request models + validator on {validated} of {len(bodies)} {'/'.join(sorted({r.method for r in bodies})) or 'body'} routes"
        )
    )
    if throttle:
        lines.append(
            Line(
                f"throttling {throttle.rate_limit:g} req/s, burst {throttle.burst_limit} (stage {stage.name if stage else ''})"
            )
        )
    extras = []
    if stage and stage.access_log_destination:
        extras.append("JSON access logs")
    if stage and stage.tracing:
        extras.append("X-Ray tracing")
    if extras:
        lines.append(Line(" · ".join(extras)))
    # Routes by family: /family/task; anything else (e.g. GET /use-cases) on its own line.
    families: dict[str, list[t.ApiRoute]] = defaultdict(list)
    for route in routes:
        families[route.family if route.path.count("/") == 2 else ""].append(route)
    route_lines: list[Line] = []
    for family in sorted(f for f in families if f):
        members = families[family]
        methods = "/".join(sorted({r.method for r in members}))
        route_lines.append(Line(f"{methods} /{family}/… ({len(members)})", "bold"))
        leaves = list(dict.fromkeys(r.path.rsplit("/", 1)[-1] for r in members))  # a path with two methods, once
        route_lines += [Line(text, "mono") for text in wrap(leaves, 56)]
    for route in families.get("", []):
        route_lines.append(Line(f"{route.method} {route.path}", "bold"))
    api_name = "API Gateway REST API"
    waf = None
    if stage and stage.web_acl:
        acl = templates[stage.stack]["Resources"].get(stage.web_acl, {})
        rules = [str(rule.get("Name")) for rule in t.props(acl).get("Rules") or []]
        waf = Box(
            "waf", "AWS WAF web ACL", [Line(name, "mono") for name in rules] or [Line("no rules", "muted")], "waf"
        )
    box = Box("api", api_name, [*lines, Line("routes", "muted"), *route_lines], "api")
    return waf, box, sorted(families.items())


def function_boxes(templates: t.Templates) -> list[Box]:
    routes = t.api_routes(templates)
    boxes = []
    for function in t.functions(templates):
        served = [r for r in routes if r.function == function.logical_id]
        runtime = function.runtime.replace("python", "Python ")
        lines = [
            Line(f"{runtime} · {function.architecture} · {function.memory_mb} MB · {function.timeout_s} s"),
            Line(
                f"serves {len(served)} route{'s' if len(served) != 1 else ''}"
                + (" (streaming)" if any(r.transfer_mode for r in served) else "")
            ),
        ]
        if function.tracing == "Active":
            lines.append(Line("X-Ray active tracing"))
        if function.models:
            api = "ConverseStream" if any(r.transfer_mode for r in served) else "Converse"
            lines.append(
                Line(f"{api} on {len(set(function.models.values()))} model(s), {len(function.models)} families")
            )
        boxes.append(Box(f"fn:{function.logical_id}", f"Lambda {short_id(function.logical_id)}", lines, "lambda"))
    return boxes


def table_boxes(templates: t.Templates) -> list[tuple[Box, list[str]]]:
    """One box per DynamoDB table (billing, expiry, recovery, encryption, indexes), with the DynamoDB actions the
    roles of the functions may take on it."""
    found = []
    for stack, logical_id, table in t.resources(templates, "AWS::DynamoDB::Table"):
        properties = t.props(table)
        billing = "on demand" if properties.get("BillingMode") == "PAY_PER_REQUEST" else "provisioned"
        lines = [
            Line(
                billing
                + (f" · TTL {ttl['AttributeName']}" if (ttl := properties.get("TimeToLiveSpecification")) else "")
            )
        ]
        recovery = properties.get("PointInTimeRecoverySpecification") or {}
        if recovery.get("PointInTimeRecoveryEnabled"):
            lines.append(Line(f"point-in-time recovery · {recovery.get('RecoveryPeriodInDays', 35)} days"))
        sse = properties.get("SSESpecification") or {}
        lines.append(
            Line(
                "AWS managed key (aws/dynamodb)"
                if sse.get("SSEEnabled") and not sse.get("KMSMasterKeyId")
                else "AWS owned key"
            )
        )
        indexes = [index["IndexName"] for index in properties.get("GlobalSecondaryIndexes") or []]
        if indexes:
            lines.append(Line("index " + ", ".join(indexes)))
        lines.append(Line(f"removal: {table.get('DeletionPolicy', 'Retain')}", "muted"))
        actions = sorted(
            {
                action.removeprefix("dynamodb:")
                for role in t.roles(templates)
                for _, statement in role.statements
                if logical_id in json.dumps(statement.resources)
                for action in statement.actions
                if action.startswith("dynamodb:")
            }
        )
        found.append(
            (Box(f"table:{stack}:{logical_id}", f"DynamoDB {short_id(logical_id)}", lines, "dynamodb"), actions)
        )
    return found


def guardrail_box(templates: t.Templates) -> Box | None:
    """One box for the stack's guardrails: each one's policies and the families it guards."""
    found = t.guardrails(templates)
    if not found:
        return None
    carried = {
        (family, logical_id)
        for function in t.functions(templates)
        for family, logical_id in function.guardrail_of.items()
    }
    lines: list[Line] = []
    for guardrail in found:
        families = sorted(family for family, logical_id in carried if logical_id == guardrail.logical_id)
        label = (
            guardrail.name.rpartition("guardrail-")[2] or guardrail.name
        )  # the profile: stacks/components/guardrail.py
        lines.append(Line(f"{label}: {', '.join(families) or 'no family'}", "bold"))
        strengths = sorted({s for _, i, o in guardrail.content_filters for s in (i, o) if s != "NONE"})
        if guardrail.content_filters:
            lines.append(Line(f"content filters ({'/'.join(strengths) or 'NONE'}):"))
            lines += [Line(text, "mono") for text in wrap([kind for kind, _, _ in guardrail.content_filters], 40, ", ")]
        if guardrail.prompt_attack:
            lines.append(Line(f"prompt attack: {guardrail.prompt_attack[0]} (input)"))
        actions = sorted({action for _, action in guardrail.pii_entities} | {r[2] for r in guardrail.regexes})
        entities = [kind.replace("CREDIT_DEBIT_CARD_NUMBER", "CARD") for kind, _ in guardrail.pii_entities] + [
            r[0] for r in guardrail.regexes
        ]
        if entities:
            lines.append(Line(f"sensitive info → {'/'.join(actions)}:"))
            lines += [Line(text, "mono") for text in wrap(entities, 40, ", ")]
    pinned = "pinned versions" if all(guardrail.versions for guardrail in found) else "DRAFT"
    title = "Bedrock Guardrail" + ("s" if len(found) > 1 else "")
    return Box("guardrail", f"{title} ({pinned})", lines, "bedrock")


def bucket_boxes(templates: t.Templates) -> list[tuple[Box, list[str]]]:
    """A box per S3 bucket that the app's functions use (the uploads bucket), with those functions; the knowledge
    base's corpus bucket, which only the knowledge base's role reads, is a line of its box."""
    found = []
    for _, logical_id, bucket in t.resources(templates, "AWS::S3::Bucket"):
        p = t.props(bucket)
        algorithms = [
            rule.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm", "?")
            for rule in (p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration", [])
        ]
        days = [
            r["ExpirationInDays"]
            for r in (p.get("LifecycleConfiguration") or {}).get("Rules", [])
            if "ExpirationInDays" in r
        ]
        denied = [
            condition
            for _, _, policy in t.resources(templates, "AWS::S3::BucketPolicy")
            if t.ref_id(t.props(policy).get("Bucket")) == logical_id
            for statement in t.statements(t.props(policy).get("PolicyDocument"))
            if statement.effect == "Deny"
            for condition in statement.conditions
        ]
        granted: dict[str, set[str]] = defaultdict(set)  # role -> its actions on the bucket
        prefixes = set()
        for role in t.roles(templates):
            for _, statement in role.statements:
                named = [r for r in statement.resources if f"${{{logical_id}." in r]
                if named and statement.effect == "Allow":
                    granted[role.logical_id] |= {action.removeprefix("s3:") for action in statement.actions}
                    prefixes |= {r.split("}", 1)[1] for r in named if "}" in r}
        users = [function for function in t.functions(templates) if function.role in granted]
        if not users:
            continue
        where = ", ".join(sorted(prefixes))
        lines = [
            Line(("SSE-S3" if algorithms == ["AES256"] else "/".join(algorithms) or "unencrypted") + " · private"),
            Line("TLS only · SigV4-signed PUTs only" if any("AWS4-HMAC-SHA256" in c for c in denied) else "TLS only"),
            Line(f"objects expire after {days[0]} day{'s' if days[0] != 1 else ''}" if days else "no expiry"),
            *(
                Line(f"{short_id(u.logical_id)}: {', '.join(sorted(granted[u.role or '']))} on {where}", "mono")
                for u in users
            ),
            Line("callers PUT to it with a presigned URL", "muted"),
        ]
        found.append((Box(f"bucket:{logical_id}", "S3 uploads bucket", lines, "s3"), [u.logical_id for u in users]))
    return found


# How the data source's chunking settings read in the knowledge base's box.
CHUNKING_UNITS = {
    "MaxTokens": " tokens",
    "OverlapPercentage": "% overlap",
    "OverlapTokens": " tokens overlap",
    "BufferSize": " sentences buffer",
    "BreakpointPercentileThreshold": "th percentile breakpoint",
}


def knowledge_base_box(templates: t.Templates) -> Box | None:
    """The knowledge base: its vector store and index, embedding model, chunking and corpus (None without one)."""
    found = t.knowledge_bases(templates)
    if not found:
        return None
    kb = found[0]
    strategy = str(kb.chunking.get("ChunkingStrategy", "?"))
    sizes = [
        f"{value}{CHUNKING_UNITS.get(key, ' ' + key)}"
        for detail in kb.chunking.values()
        if isinstance(detail, dict)
        for key, value in detail.items()
        if isinstance(value, int)
    ]
    lines = [
        Line(f"index: {kb.dimension} dims · {kb.distance_metric} · {kb.data_type}", "bold"),
        Line(kb.embedding_model, "mono"),
        Line(f"chunks: {strategy.lower().replace('_', '-')}" + (f", {', '.join(sizes)}" if sizes else "")),
        Line("corpus: S3 bucket (versioned, SSE-S3, TLS only)"),
        Line("make ingest: folder → bucket → index", "muted"),
    ]
    return Box(f"kb:{kb.logical_id}", "Bedrock knowledge base (S3 Vectors)", lines, "bedrock")


def routed_regions(templates: t.Templates, model_id: str) -> list[str]:
    """Regions whose foundation model the roles may invoke for ``model_id`` (an inference profile routes there)."""
    foundation = model_id.split(".", 1)[1] if model_id.count(".") > 1 else model_id
    pattern = re.compile(r":bedrock:([^:]*)::foundation-model/" + re.escape(foundation) + "$")
    return sorted(
        {
            match.group(1)
            for role in t.roles(templates)
            for _, statement in role.statements
            for resource in statement.resources
            if (match := pattern.search(resource))
        }
    )


def bedrock_box(templates: t.Templates) -> Box:
    models: dict[str, str] = {}
    guarded: set[str] = set()
    for function in t.functions(templates):
        models.update(function.models)
        guarded |= set(function.guarded_families)
    lines = [Line("Converse API", "bold")]
    by_model: dict[str, list[str]] = defaultdict(list)
    for family, model in sorted(models.items()):
        by_model[model].append(family + (" + guardrail" if family in guarded else ""))
    for model, families in sorted(by_model.items()):
        lines.append(Line(model, "mono"))
        lines += [Line(f"  {family}") for family in families]
        regions = [
            region.replace("${AWS::Region}", "the stack's region") for region in routed_regions(templates, model)
        ]
        if regions:
            wrapped = wrap(regions, 24, ", ", "")
            lines += [
                Line(("  routes to " if index == 0 else "    ") + text, "muted") for index, text in enumerate(wrapped)
            ]
    return Box("bedrock", "Amazon Bedrock", lines, "bedrock")


def logs_box(templates: t.Templates) -> Box:
    retention = t.log_retention(templates)
    lines = []
    for function in t.functions(templates):
        if function.log_group:
            days = retention.get((function.stack, function.log_group))
            lines.append(Line(f"{short_id(function.logical_id)} logs · {days or 'unlimited'} days"))
    for stage in t.stages(templates):
        if stage.access_log_group:
            days = retention.get((stage.stack, stage.access_log_group))
            lines.append(Line(f"API access logs (stage {stage.name}) · {days or 'unlimited'} days"))
    namespaces = sorted({f.environment.get(POWERTOOLS_METRICS_NAMESPACE, "") for f in t.functions(templates)} - {""})
    if namespaces:
        lines.append(Line(f"EMF metrics → namespace {', '.join(namespaces)}", "muted"))
    return Box("logs", "CloudWatch Logs", lines or [Line("no log groups", "muted")], "logs")


def monitoring_boxes(templates: t.Templates, stack: str) -> list[Box]:
    only = {stack: templates[stack]}
    boxes = []
    for _, logical_id, dashboard in t.resources(only, "AWS::CloudWatch::Dashboard"):
        p = t.props(dashboard)
        try:
            widgets = json.loads(t.render(p.get("DashboardBody"))).get("widgets", [])
        except ValueError:
            widgets = []
        titles = [str((w.get("properties") or {}).get("title", "")) for w in widgets]
        lines = [Line(t.render(p.get("DashboardName", short_id(logical_id))), "mono"), Line(f"{len(widgets)} widgets")]
        per_use_case = sum(1 for title in titles if "per use case" in title)
        if per_use_case:
            lines.append(
                Line(
                    f"{per_use_case} per use case, incl. cost"
                    if any("cost" in x.lower() for x in titles)
                    else f"{per_use_case} per use case"
                )
            )
        boxes.append(Box(f"dash:{logical_id}", "CloudWatch dashboard", lines, "monitoring"))
    alarms = t.alarms(only)
    if alarms:
        prefix = f"{stack}-"
        lines = [Line(alarm.name.removeprefix(prefix), "mono") for alarm in alarms]
        boxes.append(Box("alarms", f"{len(alarms)} CloudWatch alarms", lines, "monitoring"))
    for topic in t.topics(only):
        lines = [
            Line(
                " · ".join(
                    x for x in ("KMS-encrypted" if topic.encrypted else "", "TLS only" if topic.tls_only else "") if x
                )
                or "unencrypted"
            )
        ]
        lines.append(
            Line(
                ", ".join(f"{p} subscription" for p in topic.subscriptions)
                if topic.subscriptions
                else "subscribe: AlarmTopicArn output",
                "muted",
            )
        )
        boxes.append(Box(f"topic:{topic.logical_id}", "SNS alarm topic", lines, "sns"))
    return boxes


# --- layout ------------------------------------------------------------------------------------------------------


def layout(templates: t.Templates) -> tuple[Diagram, int, int, str]:
    functions = t.functions(templates)
    api_stack = functions[0].stack if functions else sorted(templates)[0]
    others = [stack for stack in sorted(templates) if stack != api_stack]
    title = api_stack.removesuffix("Api")
    routes = t.api_routes(templates)
    diagram = Diagram()
    margin = 20
    top = 78

    client_auth = "SigV4-signed HTTPS" if all(r.authorization == "AWS_IAM" for r in routes) else "HTTPS + x-api-key"
    client = Box(
        "client",
        "Client",
        [Line(client_auth), Line("app, service or", "muted"), Line("another AWS account", "muted")],
        "client",
    )
    waf, api, _ = api_boxes(templates)
    fns = function_boxes(templates)
    guard = guardrail_box(templates)
    buckets = bucket_boxes(templates)
    kb = knowledge_base_box(templates)
    tables = table_boxes(templates)
    bedrock = bedrock_box(templates)
    logs = logs_box(templates)
    for box in [
        client,
        api,
        bedrock,
        logs,
        *fns,
        *([waf] if waf else []),
        *([guard] if guard else []),
        *([kb] if kb else []),
        *(box for box, _ in tables),
    ]:
        box.measure()
    for box, _ in buckets:
        box.measure()
    # The knowledge base goes right under the function that may search it (the arrow between them is short).
    searcher = next(
        (
            f"fn:{function.logical_id}"
            for function in functions
            if kb and any(function.role == role for found in t.knowledge_bases(templates) for role in found.retrievers)
        ),
        None,
    )

    # Columns: client | [stack: (waf) | api | functions + guardrail] | bedrock
    inner = 18  # padding inside a stack group
    client.x, client.y = margin, top + inner + 40
    x = client.right + GAP + inner
    if waf:
        waf.x, waf.y = x, top + inner + 24
        x = waf.right + GAP
    api.x, api.y = x, top + inner + 24
    below = ([guard] if guard else []) + ([kb] if kb else []) + [box for box, _ in buckets] + [box for box, _ in tables]
    fn_w = max([box.w for box in fns] + [box.w for box in below] + [0])
    column_x = api.right + GAP + 24
    y = api.y
    for box in fns:
        box.w = fn_w
        box.x, box.y = column_x, y
        y = box.bottom + 28
        if kb and box.key == searcher:
            kb.w = fn_w
            kb.x, kb.y = column_x, y + 8
            y = kb.bottom + 28
    for box, _ in tables:  # below the functions that use them, room for the arrow's label
        box.w = fn_w
        box.x, box.y = column_x, y + 22
        y = box.bottom + 28
    if guard:
        guard.w = fn_w
        guard.x, guard.y = column_x, max(y + 12, api.y + 150)
        y = guard.bottom + 28
    for box, _ in buckets:
        box.w = fn_w
        box.x, box.y = column_x, y
        y = box.bottom + 28
    body_bottom = max(api.bottom, y - 28)
    logs.x, logs.y = api.x, body_bottom + 34
    logs.w = max(logs.w, column_x + fn_w - api.x)
    logs.measure()
    stack_x = (waf.x if waf else api.x) - inner
    stack_right = column_x + fn_w + inner
    stack_bottom = logs.bottom + inner
    diagram.groups.append((f"stack {api_stack}", stack_x, top, stack_right - stack_x, stack_bottom - top))
    bedrock.x, bedrock.y = stack_right + GAP + 10, api.y
    for lower in (guard, kb):  # tall enough for the guardrail's and the knowledge base's arrows to land on it
        if lower:
            bedrock.h = max(bedrock.h, lower.y + 56 - bedrock.y)
    width = bedrock.right + margin

    # Monitoring stack(s) underneath.
    y = stack_bottom + 62
    monitoring: list[Box] = []
    for stack in others:
        boxes = monitoring_boxes(templates, stack)
        if not boxes:
            continue
        for box in boxes:
            box.measure()
        x = stack_x + inner
        group_top = y
        height = max(box.h for box in boxes)
        for box in boxes:
            box.x, box.y = x, group_top + inner + 24
            box.h = height
            x = box.right + GAP
        diagram.groups.append(
            (f"stack {stack}", stack_x, group_top, max(x - GAP + inner, stack_right) - stack_x, height + 2 * inner + 24)
        )
        monitoring += boxes
        y = group_top + height + 2 * inner + 24 + 30
        width = max(width, x - GAP + inner + margin)
    height = y + 10

    diagram.boxes += [
        client,
        *([waf] if waf else []),
        api,
        *fns,
        *([kb] if kb else []),
        *(box for box, _ in tables),
        *([guard] if guard else []),
        *(box for box, _ in buckets),
        logs,
        bedrock,
        *monitoring,
    ]

    # Request path.
    entry = waf or api
    diagram.arrows.append(
        Arrow(
            [(client.right, client.y + 40), (entry.x, client.y + 40)],
            "HTTPS",
            label_at=((client.right + entry.x) // 2, client.y + 32),
        )
    )
    if waf:
        diagram.arrows.append(Arrow([(waf.right, client.y + 40), (api.x, client.y + 40)]))
    for box in fns:
        y = box.y + 36
        diagram.arrows.append(Arrow([(api.right, y), (box.x, y)], "proxy", label_at=((api.right + box.x) // 2, y - 6)))
        fn = next(f for f in functions if f"fn:{f.logical_id}" == box.key)
        actions = {
            action
            for role in t.roles(templates)
            if role.logical_id == fn.role
            for _, s in role.statements
            for action in s.actions
        }
        if any(action.startswith("bedrock:Invoke") for action in actions):
            label = "Converse" if "bedrock:InvokeModel" in actions else "ConverseStream"
            diagram.arrows.append(
                Arrow([(box.right, y), (bedrock.x, y)], label, label_at=((box.right + bedrock.x) // 2, y - 6))
            )
        gx, ly = (api.right + box.x) // 2, box.bottom - 14
        diagram.arrows.append(
            Arrow(
                [(box.x, ly), (gx, ly), (gx, logs.y)],
                "logs",
                dashed=True,
                label_at=(gx + 6, logs.y - 8),
                anchor="start",
            )
        )
    searching = next((box for box in fns if box.key == searcher), None)
    if kb and searching:
        kx = kb.x + kb.w // 2
        diagram.arrows.append(
            Arrow(
                [(kx, searching.bottom), (kx, kb.y)],
                "Retrieve",
                label_at=(kx + 6, (searching.bottom + kb.y) // 2 + 4),
                anchor="start",
            )
        )
        ky = kb.y + 30
        diagram.arrows.append(
            Arrow(
                [(kb.right, ky), (bedrock.x, ky)], "embeds", dashed=True, label_at=((kb.right + bedrock.x) // 2, ky - 6)
            )
        )
    if fns:
        for box, actions in tables:
            ax = box.x + 40
            top = next((fn.bottom for fn in reversed(fns) if fn.bottom < box.y), api.bottom)
            diagram.arrows.append(
                Arrow(
                    [(ax, top), (ax, box.y)],
                    " · ".join(actions) if actions else "no access",
                    label_at=(ax + 6, box.y - 7),
                    anchor="start",
                )
            )
    if guard:
        gy = guard.y + 30
        diagram.arrows.append(
            Arrow(
                [(guard.right, gy), (bedrock.x, gy)],
                "applied",
                dashed=True,
                label_at=((guard.right + bedrock.x) // 2, gy - 6),
            )
        )
    for bucket, users in buckets:  # each function that reads (and presigns for) the bucket, along the column's edge
        for index, user in enumerate(users):
            source = next(box for box in fns if box.key == f"fn:{user}")
            edge = column_x - 10 - 8 * index
            diagram.arrows.append(
                Arrow(
                    [
                        (column_x, source.bottom - 24),
                        (edge, source.bottom - 24),
                        (edge, bucket.cy),
                        (bucket.x, bucket.cy),
                    ],
                    "uploads",
                    label_at=(edge - 4, bucket.cy - 6),
                    anchor="end",
                )
            )
    diagram.arrows.append(
        Arrow(
            [(api.x + 40, api.bottom), (api.x + 40, logs.y)],
            "access logs",
            dashed=True,
            label_at=(api.x + 48, (api.bottom + logs.y) // 2 + 4),
            anchor="start",
        )
    )
    for box in monitoring:
        if box.key.startswith("dash:") or box.key == "alarms":
            diagram.arrows.append(Arrow([(box.cx, stack_bottom), (box.cx, box.y)], dashed=True))
    metrics_y = (stack_bottom + (monitoring[0].y if monitoring else stack_bottom + 60)) // 2 - 10
    readers = [box for box in monitoring if box.key.startswith("dash:") or box.key == "alarms"]
    if readers:
        diagram.notes.append((readers[-1].cx + 8, metrics_y + 4, "metrics: AWS/ApiGateway, AWS/Lambda, EMF", "start"))
    alarms = next((box for box in monitoring if box.key == "alarms"), None)
    topic = next((box for box in monitoring if box.key.startswith("topic:")), None)
    if alarms and topic:
        diagram.arrows.append(
            Arrow(
                [(alarms.right, alarms.y + 36), (topic.x, alarms.y + 36)],
                "notify",
                label_at=((alarms.right + topic.x) // 2, alarms.y + 30),
            )
        )
    diagram.notes.append(
        (
            margin,
            height - 12,
            "Solid: requests and notifications · dashed: logs, metrics, the guardrail and embeddings. Generated from the synthesized templates by make diagram.",
            "start",
        )
    )
    return diagram, width, height, title


# --- SVG --------------------------------------------------------------------------------------------------------


def _text(
    x: int,
    y: int,
    text: str,
    *,
    size: int = TEXT_SIZE,
    weight: str = "normal",
    fill: str = "#16191F",
    anchor: str = "start",
    family: str = FONT,
) -> str:
    weight_attr = ' font-weight="bold"' if weight == "bold" else ""
    anchor_attr = f' text-anchor="{anchor}"' if anchor != "start" else ""
    return f'<text x="{x}" y="{y}" font-family="{family}" font-size="{size}"{weight_attr}{anchor_attr} fill="{fill}">{escape(text)}</text>'


def _box(box: Box) -> list[str]:
    color, light, r = COLORS[box.kind], LIGHT[box.kind], 8
    out = [
        f'<rect x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" rx="{r}" fill="#FFFFFF" stroke="{color}" stroke-width="1.5"/>',
        f'<path d="M{box.x},{box.y + HEADER} V{box.y + r} Q{box.x},{box.y} {box.x + r},{box.y} H{box.right - r} '
        f'Q{box.right},{box.y} {box.right},{box.y + r} V{box.y + HEADER} Z" fill="{light}" stroke="{color}" stroke-width="1.5"/>',
        _text(box.x + PAD, box.y + 18, box.title, size=TITLE_SIZE, weight="bold", fill=color),
    ]
    y = box.y + HEADER + PAD + 8
    for line in box.lines:
        fill = "#687078" if line.style == "muted" else "#16191F"
        family = "Menlo, Consolas, monospace" if line.style == "mono" else FONT
        # SVG collapses leading spaces: they become an indent (4 px each).
        indent = 4 * (len(line.text) - len(line.text.lstrip(" ")))
        out.append(
            _text(
                box.x + PAD + indent,
                y,
                line.text.lstrip(" "),
                size=line.size,
                weight="bold" if line.style == "bold" else "normal",
                fill=fill,
                family=family,
            )
        )
        y += LINE
    return out


def _arrow(arrow: Arrow) -> list[str]:
    points = " ".join(f"{x},{y}" for x, y in arrow.points)
    dash = ' stroke-dasharray="5 4"' if arrow.dashed else ""
    out = [
        f'<polyline points="{points}" fill="none" stroke="#545B64" stroke-width="1.5"{dash} marker-end="url(#arrow)"/>'
    ]
    if arrow.label and arrow.label_at:
        out.append(
            _text(
                arrow.label_at[0], arrow.label_at[1], arrow.label, size=SMALL_SIZE, fill="#545B64", anchor=arrow.anchor
            )
        )
    return out


def render_svg(templates: t.Templates) -> str:
    diagram, width, height, title = layout(templates)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="title desc">',
        f'<title id="title">{escape(title)}: architecture</title>',
        '<desc id="desc">Client to API Gateway (authorization, validation, throttling) to AWS Lambda to Amazon Bedrock '
        "(guardrail, models), an S3 uploads bucket for files, CloudWatch Logs and a monitoring stack (dashboard, "
        "alarms, SNS topic).</desc>",
        "<defs>",
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">',
        '<path d="M0,0 L10,5 L0,10 z" fill="#545B64"/>',
        "</marker>",
        "</defs>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#FFFFFF"/>',
        _text(20, 30, f"{title}: generative AI on AWS", size=17, weight="bold"),
        _text(
            20,
            50,
            "API Gateway REST API → AWS Lambda (Python) → Amazon Bedrock Converse, with a separate monitoring stack",
            size=SMALL_SIZE,
            fill="#545B64",
        ),
    ]
    for label, x, y, w, h in diagram.groups:
        out.append(
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="10" fill="#FAFAFA" stroke="{COLORS["stack"]}" stroke-width="1" stroke-dasharray="6 4"/>'
        )
        out.append(_text(x + 12, y + 20, label, size=SMALL_SIZE, weight="bold", fill=COLORS["stack"]))
    for box in diagram.boxes:
        out += _box(box)
    for arrow in diagram.arrows:
        out += _arrow(arrow)
    for x, y, text, anchor in diagram.notes:
        out.append(_text(x, y, text, size=SMALL_SIZE, fill="#687078", anchor=anchor))
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --- command line -----------------------------------------------------------------------------------------------


def current_templates() -> Mapping[str, Mapping[str, Any]]:
    """The templates of cdk.json's context, synthesized in-process into a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="diagram-") as directory:
        return synthesize(cdk_json_context(), Path(directory)).templates


def main(argv: list[str] | None = None) -> int:
    return write_or_check(
        argv,
        description=__doc__.split("\n")[0],
        output=OUTPUT,
        generate=lambda: render_svg(current_templates()),
        target="diagram",
    )


if __name__ == "__main__":
    sys.exit(main())
