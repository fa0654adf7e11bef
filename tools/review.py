"""``make review``: one Markdown report for a security or cost reviewer, with no AWS account.

    make review                                   # writes cdk.out/review/review.md and prints its path
    make review REVIEW_ARGS="-c enableWaf=true"   # the same for another context (CDK's -c key=value)
    .venv/bin/python -m tools.review --help

It synthesizes the app in-process with cdk.json's context and the ``-c`` overrides (cdk-nag runs as part of synth)
into its own folder, ``cdk.out/review/``, so that the templates ``make synth`` wrote to ``cdk.out/`` stay as they
were; runs cfn-lint and checkov on its templates, and renders: resources per stack, every IAM role and what it may do (anything broader than one
named resource flagged), every route's authorization, request model, validator and throttling, the guardrail's
policies and the models per family with their IAM grants, the three scanners' results with every recorded exception
and its reason, the fixed monthly cost at idle and the cost per request, and the context in effect.

``report(Inputs)`` is a pure function of the synthesized templates, cdk-nag's report, the scanners' outputs and the
context: the tests call it with the session's synthesis and scanner runs. The same inputs give the same bytes (no
timestamps, no paths, everything sorted).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from endpoints import UPLOADS_PATH
from stacks.config import CONTEXT_KEYS, AppConfig, load_config
from tools import templates as t
from tools.assembly import ROOT, cdk_json_context, parse_overrides, synthesize
from tools.scanners import ScannerRun, checkov_checks, run_cfn_lint, run_checkov

# Its own cloud assembly, beside (not over) the one `make synth` writes to cdk.out/, and the report in it.
OUTDIR = ROOT / "cdk.out" / "review"
OUTPUT = OUTDIR / "review.md"

# us-east-1 list prices at the time of writing, in US dollars: the one home of these figures (docs/cost.md states
# them too, and tests/test_review.py checks that the page and this table agree).
PRICE = {
    "kms_key_month": Decimal("1.00"),
    "dashboard_month": Decimal("3.00"),
    "alarm_metric_month": Decimal("0.10"),
    "waf_acl_month": Decimal("5.00"),
    "waf_rule_month": Decimal("1.00"),
    "waf_per_million": Decimal("0.60"),
    "rest_api_per_million": Decimal("3.50"),
    "lambda_per_million": Decimal("0.20"),
    "lambda_gb_second_arm64": Decimal("0.0000133334"),
    "lambda_gb_second_x86_64": Decimal("0.0000166667"),
    "s3_put_per_thousand": Decimal("0.005"),
    "s3_get_per_thousand": Decimal("0.0004"),
    "s3_standard_gb_month": Decimal("0.023"),  # the uploads and the corpus buckets' storage
    # The knowledge base (docs/cost.md, "Knowledge base"): S3 Vectors and Titan Text Embeddings V2 as third parties
    # transcribe the price pages (research-15, to be checked); Retrieve and a VECTOR knowledge base carry no charge.
    "s3_vectors_gb_month": Decimal("0.06"),
    "s3_vectors_put_gb": Decimal("0.20"),
    "s3_vectors_per_million_queries": Decimal("2.50"),
    "titan_embed_v2_per_1k_tokens": Decimal("0.00002"),
    # DynamoDB on demand (since AWS's November 2024 price cut), standard table class; storage beyond the free 25 GB.
    "dynamodb_write_per_million": Decimal("0.625"),
    "dynamodb_read_per_million": Decimal("0.125"),
    "dynamodb_storage_gb_month": Decimal("0.25"),
    "dynamodb_pitr_gb_month": Decimal("0.20"),
}
FREE_DASHBOARDS = 3  # per account: up to 50 metrics each
FREE_ALARM_METRICS = 10  # per account
# Resource types with no charge while idle (pay per use, storage only, or free).
IDLE_FREE_TYPES = {
    "AWS::ApiGateway::Account", "AWS::ApiGateway::ApiKey", "AWS::ApiGateway::Deployment",
    "AWS::ApiGateway::GatewayResponse", "AWS::ApiGateway::Method", "AWS::ApiGateway::Model",
    "AWS::ApiGateway::RequestValidator", "AWS::ApiGateway::Resource", "AWS::ApiGateway::RestApi",
    "AWS::ApiGateway::Stage", "AWS::ApiGateway::UsagePlan", "AWS::ApiGateway::UsagePlanKey",
    "AWS::Bedrock::Guardrail", "AWS::Bedrock::GuardrailVersion", "AWS::CDK::Metadata", "AWS::DynamoDB::Table",
    "AWS::IAM::Policy",
    "AWS::IAM::Role", "AWS::Lambda::Function", "AWS::Lambda::Permission", "AWS::Logs::LogGroup",
    "AWS::SNS::Subscription", "AWS::SNS::Topic", "AWS::SNS::TopicPolicy", "AWS::WAFv2::WebACLAssociation",
    "AWS::Bedrock::KnowledgeBase", "AWS::Bedrock::DataSource", "AWS::S3Vectors::VectorBucket",
    "AWS::S3Vectors::Index", "AWS::S3::Bucket", "AWS::S3::BucketPolicy", "Custom::S3AutoDeleteObjects",
}  # fmt: skip
# What each priced type costs at idle is computed below; anything else is listed as "not priced by this report".
PRICED_TYPES = {"AWS::KMS::Key", "AWS::CloudWatch::Dashboard", "AWS::CloudWatch::Alarm", "AWS::WAFv2::WebACL"}
# The worked example of docs/cost.md ("Per request").
EXAMPLE_INPUT_TOKENS, EXAMPLE_OUTPUT_TOKENS, EXAMPLE_SECONDS = 1500, 200, Decimal(2)
# AWS managed policies the templates may attach, as the AWS managed policy reference documents them.
KNOWN_MANAGED_POLICIES = {
    "AmazonAPIGatewayPushToCloudWatchLogs": (
        "logs:CreateLogGroup, logs:CreateLogStream, logs:DescribeLogGroups, logs:DescribeLogStreams, logs:PutLogEvents, "
        "logs:GetLogEvents, logs:FilterLogEvents on `*` (AWS managed policy reference, version v1)"
    ),
}


@dataclass(frozen=True)
class Inputs:
    templates: Mapping[str, Mapping[str, Any]]  # stack name -> synthesized template
    context: Mapping[str, Any]  # the context the app was synthesized with
    nag: Mapping[str, Any] = field(default_factory=dict)  # cdk-nag's AwsSolutions plugin report
    logical_ids: Mapping[str, str] = field(default_factory=dict)  # construct path -> logical id
    cfn_lint: ScannerRun | None = None
    checkov: ScannerRun | None = None
    defaults: Mapping[str, Any] = field(default_factory=cdk_json_context)  # cdk.json's context, to show overrides


# --- Markdown helpers -----------------------------------------------------------------------------------------


def cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def code(text: Any) -> str:
    return f"`{cell(text)}`"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(value) for value in row) + " |" for row in rows]
    return lines


def money(amount: Decimal, places: int = 2) -> str:
    return f"${amount:.{places}f}"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


# --- analysis -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acknowledgment:
    rule: str  # without the AwsSolutions- prefix, e.g. IAM5[Resource::*]
    reason: str


def acknowledgments(inputs: Inputs) -> dict[tuple[str, str], list[Acknowledgment]]:
    """(stack, logical id) -> the cdk-nag acknowledgments recorded on that resource."""
    found: dict[tuple[str, str], list[Acknowledgment]] = defaultdict(list)
    for violation in inputs.nag.get("suppressedViolations", []):
        for construct in violation.get("violatingConstructs", []):
            path = construct["constructPath"]
            logical_id = inputs.logical_ids.get(path)
            if logical_id is not None:
                rule = violation["ruleName"].removeprefix("AwsSolutions-")
                found[(path.split("/")[0], logical_id)].append(Acknowledgment(rule, violation.get("reason", "")))
    return found


def nag_style(resource: str) -> str:
    """A rendered resource as cdk-nag writes it in a finding id (``${AWS::Region}`` -> ``<AWS::Region>``)."""
    out, index = [], 0
    while index < len(resource):
        if resource.startswith("${", index) and "}" in resource[index:]:
            end = resource.index("}", index)
            out.append(f"<{resource[index + 2 : end]}>")
            index = end + 1
        else:
            out.append(resource[index])
            index += 1
    return "".join(out)


@dataclass(frozen=True)
class Finding:
    """An Allow statement broader than one named resource, and whether a recorded exception covers it."""

    stack: str
    owner: str  # the role or the resource whose policy it is
    policy: str
    statement: t.Statement
    reasons: tuple[str, ...]
    acknowledged: str | None  # the acknowledgment's rule and reason when it covers the statement
    note: str  # how it was judged

    @property
    def needs_attention(self) -> bool:
        return self.acknowledged is None and self.note != "named resources"


def judge(
    stack: str, owner: str, policy: str, statement: t.Statement, acks: Mapping[tuple[str, str], list[Acknowledgment]]
) -> Finding | None:
    reasons = statement.broadening
    if not reasons:
        return None
    wildcard_findings = [f"Action::{action}" for action in statement.actions if "*" in action]
    wildcard_findings += [
        f"Resource::{nag_style(resource)}" for resource in statement.resources if "*" in t.literal(resource)
    ]
    if not wildcard_findings and not statement.not_actions and not statement.not_resources:
        return Finding(stack, owner, policy, statement, tuple(reasons), None, "named resources")
    recorded = {ack.rule: ack for ack in acks.get((stack, policy), [])}
    covering = [recorded.get(f"IAM5[{finding}]") for finding in wildcard_findings]
    if wildcard_findings and all(covering):
        unnamed = [action for action in statement.actions if not all(action in ack.reason for ack in covering if ack)]
        if not unnamed:
            first = covering[0]
            assert first is not None
            return Finding(
                stack,
                owner,
                policy,
                statement,
                tuple(reasons),
                f"cdk-nag `{first.rule}`: {first.reason}",
                "acknowledged",
            )
        note = (
            f"an acknowledgment on this policy (`{covering[0].rule if covering[0] else ''}`) does not name "
            + ", ".join(f"`{a}`" for a in unnamed)
        )
        return Finding(stack, owner, policy, statement, tuple(reasons), None, note)
    return Finding(stack, owner, policy, statement, tuple(reasons), None, "no acknowledgment covers it")


@dataclass(frozen=True)
class JudgedRole:
    role: t.Role
    statements: tuple[tuple[str, t.Statement, Finding | None], ...]  # (policy logical id, statement, finding)


def judged_roles(inputs: Inputs) -> list[JudgedRole]:
    """Every role with each statement of its policies and, for a broad one, the finding."""
    acks = acknowledgments(inputs)
    return [
        JudgedRole(
            role,
            tuple(
                (policy.logical_id, statement, judge(role.stack, role.logical_id, policy.logical_id, statement, acks))
                for policy, statement in role.statements
            ),
        )
        for role in t.roles(inputs.templates)
    ]


def iam_findings(roles: Sequence[JudgedRole]) -> list[Finding]:
    return [finding for judged in roles for _, _, finding in judged.statements if finding is not None]


def config_of(inputs: Inputs) -> AppConfig:
    return load_config({key: inputs.context.get(key) for key in CONTEXT_KEYS})


# --- sections -------------------------------------------------------------------------------------------------


def section_resources(inputs: Inputs) -> list[str]:
    lines = ["## 1. Resources", ""]
    for stack in sorted(inputs.templates):
        counts = {kind: n for kind, n in t.count_types(inputs.templates[stack]).items() if kind != "AWS::CDK::Metadata"}
        description = inputs.templates[stack].get("Description", "")
        lines += [f"### {stack} ({plural(sum(counts.values()), 'resource')})", ""]
        if description:
            lines += [f"{description}", ""]
        lines += table(["type", "count"], [(code(kind), n) for kind, n in counts.items()])
        lines.append("")
    lines += ["CDK's version-reporting metadata (`AWS::CDK::Metadata`), when present, is not counted.", ""]
    return lines


def _statement_rows(statements: Iterable[tuple[str, t.Statement, Finding | None]]) -> list[list[str]]:
    rows = []
    for policy, statement, finding in statements:
        if finding is None:
            flag = "one named resource" if statement.effect == "Allow" else "deny"
        elif finding.acknowledged:
            flag = "⚑ " + "; ".join(finding.reasons) + " — acknowledged"
        elif finding.note == "named resources":
            flag = "⚑ " + "; ".join(finding.reasons) + " (named, no wildcard)"
        else:
            flag = "⚠ " + "; ".join(finding.reasons) + f" — NOT acknowledged ({finding.note})"
        rows.append(
            [
                code(statement.sid),
                code(policy),
                statement.effect,
                "<br>".join(code(a) for a in statement.actions)
                or ("NotAction " + ", ".join(code(a) for a in statement.not_actions)),
                "<br>".join(code(r) for r in statement.resources)
                or ("NotResource " + ", ".join(code(r) for r in statement.not_resources)),
                "<br>".join(code(c) for c in statement.conditions) or "—",
                flag,
            ]
        )
    return rows


def managed_policies(inputs: Inputs, roles: Sequence[JudgedRole]) -> list[tuple[t.Role, str, Acknowledgment | None]]:
    """(role, managed policy ARN, the cdk-nag IAM4 acknowledgment on the role naming it, if any)."""
    acks = acknowledgments(inputs)
    found = []
    for judged in roles:
        for arn in judged.role.managed_policies:
            name = arn.rsplit("/", 1)[-1]
            covering = [
                a
                for a in acks.get((judged.role.stack, judged.role.logical_id), [])
                if a.rule.startswith("IAM4[") and a.rule.endswith(f"/{name}]")
            ]
            found.append((judged.role, arn, covering[0] if covering else None))
    return found


def section_iam(inputs: Inputs, roles: Sequence[JudgedRole]) -> list[str]:
    managed = managed_policies(inputs, roles)
    lines = [
        "## 2. IAM",
        "",
        "Every role and every statement of its policies. ⚑ marks an Allow broader than one named resource (a wildcard "
        "action or resource, NotAction/NotResource, or several resources); ⚠ marks one that no recorded exception "
        "covers. A wildcard counts as acknowledged only when cdk-nag acknowledged that finding on that very policy "
        "and the acknowledgment's reason names each of the statement's actions. Statements without a Sid are "
        "numbered (`#n`) in their policy; `${X}` is a reference to the template's resource or parameter X.",
        "",
    ]
    for judged in roles:
        role = judged.role
        used_by = ", ".join(code(user) for user in role.used_by) or "nothing in the template"
        lines += [
            f"### Role `{role.logical_id}` ({role.stack})",
            "",
            f"- {role.description or 'no description'}",
            f"- trusted: {', '.join(code(p) for p in role.trusted) or '—'}; used by {used_by}",
        ]
        for owner, arn, ack in managed:
            if owner is not role:
                continue
            known = KNOWN_MANAGED_POLICIES.get(
                arn.rsplit("/", 1)[-1], "its statements are not in the template: review them in IAM"
            )
            status = f"acknowledged (cdk-nag `IAM4`: {ack.reason})" if ack else "⚠ NOT acknowledged"
            lines.append(f"- ⚑ AWS managed policy {code(arn)}: {known} — {status}")
        lines.append("")
        rows = _statement_rows(judged.statements)
        if rows:
            lines += table(["sid", "policy", "effect", "actions", "resources", "conditions", "scope"], rows)
        else:
            lines.append("No inline or attached policy statements.")
        lines.append("")
        notes = [
            (statement.sid, finding)
            for _, statement, finding in judged.statements
            if finding is not None and finding.acknowledged
        ]
        for sid, finding in notes:
            lines.append(f"- {code(sid)} acknowledged: {finding.acknowledged}")
        if notes:
            lines.append("")
    policies = t.resource_policies(inputs.templates)
    if policies:
        lines += [
            "### Resource-based policies",
            "",
            "Who else may act on a resource (in a key policy, resource `*` means the key itself).",
            "",
        ]
        rows = []
        for stack, logical_id, kind, statements in policies:
            for statement in statements:
                principal = "<br>".join(code(p) for p in statement.principals) or "—"
                scope = (
                    "deny"
                    if statement.effect != "Allow"
                    else ("⚑ " + "; ".join(statement.broadening) if statement.broadening else "one named resource")
                )
                if statement.effect == "Allow" and any(
                    p.endswith(":iam::${AWS::AccountId}:root") for p in statement.principals
                ):
                    scope += " (this account's root: delegates to the account's IAM policies, the default key policy)"
                rows.append(
                    [
                        f"{code(logical_id)} ({kind.split('::')[1]}, {stack})",
                        code(statement.sid),
                        statement.effect,
                        principal,
                        "<br>".join(code(a) for a in statement.actions),
                        "<br>".join(code(r) for r in statement.resources),
                        "<br>".join(code(c) for c in statement.conditions) or "—",
                        scope,
                    ]
                )
        lines += table(["policy of", "sid", "effect", "principal", "actions", "resources", "conditions", "scope"], rows)
        lines.append("")
    permissions = [(stack, resource) for stack, _, resource in t.resources(inputs.templates, "AWS::Lambda::Permission")]
    if permissions:
        grouped: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
        for stack, resource in permissions:
            p = t.props(resource)
            source = t.render(p.get("SourceArn")) if p.get("SourceArn") else ""
            target = t.ref_id(p.get("FunctionName")) or t.render(p.get("FunctionName"))
            grouped[(stack, target, t.render(p.get("Action")), t.render(p.get("Principal")))].append(source)
        lines += ["### Who may invoke the functions", ""]
        rows = []
        for (stack, target, action, principal), sources in sorted(grouped.items()):
            unscoped = [s for s in sources if not s or "*" in t.literal(s)]
            scope = (
                "⚠ " + plural(len(unscoped), "permission") + " without a narrow source ARN"
                if unscoped
                else "each scoped to one stage, method and path"
            )
            rows.append(
                [f"{code(target)} ({stack})", code(action), code(principal), plural(len(sources), "permission"), scope]
            )
        lines += table(["function", "action", "principal", "count", "source ARNs"], rows)
        lines.append("")
    return lines


def section_api(inputs: Inputs) -> list[str]:
    routes = t.api_routes(inputs.templates)
    stages = t.stages(inputs.templates)
    lines = ["## 3. The API", ""]
    if not routes:
        return [*lines, "No REST API in the templates.", ""]
    stage_rows = []
    for stage in stages:
        default = stage.throttle_for("*", "/*")
        settings = next(
            (
                s
                for s in stage.method_settings
                if s.get("ResourcePath", "/*") == "/*" and s.get("HttpMethod", "*") == "*"
            ),
            {},
        )
        stage_rows.append(
            [
                f"{code(stage.name)} ({stage.stack})",
                str(default) if default else "⚠ none",
                code(settings.get("LoggingLevel", "OFF")),
                "on" if settings.get("DataTraceEnabled") else "off",
                "on" if stage.tracing else "off",
                code(stage.access_log_destination) if stage.access_log_destination else "⚠ none",
                code(stage.web_acl) if stage.web_acl else "none",
                "on" if stage.cache_cluster else "off",
            ]
        )
    lines += table(
        ["stage", "throttling", "execution logging", "data trace", "X-Ray", "access logs", "WAF web ACL", "cache"],
        stage_rows,
    )
    plans = [
        f"- Usage plan {code(p.logical_id)}: throttle {p.throttle or 'none'}; quota {p.quota or 'none'}."
        for p in t.usage_plans(inputs.templates)
    ]
    lines += ["", *plans] if plans else []
    stage_by_api = {(stage.stack, stage.api): stage for stage in stages}
    rows = []
    for route in routes:
        route_stage = stage_by_api.get((route.stack, route.api))
        throttle = route_stage.throttle_for(route.method, route.path) if route_stage else None
        auth = route.auth_label if route.auth_label != "NONE" else "⚠ NONE"
        integration = route.integration
        if route.function:
            integration += f" → {code(route.function)}"
        if route.timeout_ms:
            integration += f" ({route.timeout_ms / 1000:g} s)"
        if route.transfer_mode:
            integration += f", {route.transfer_mode}"
        needs_body = route.method in ("POST", "PUT", "PATCH")
        rows.append(
            [
                route.method,
                code(route.path),
                auth,
                code(route.request_model) if route.request_model else ("⚠ none" if needs_body else "— (no body)"),
                route.validator or ("⚠ none" if needs_body else "— (no body)"),
                f"{throttle.rate_limit:g}/s, burst {throttle.burst_limit}" if throttle else "⚠ none",
                integration,
            ]
        )
    auth_counts: dict[str, int] = defaultdict(int)
    for route in routes:
        auth_counts[route.auth_label] += 1
    summary = ", ".join(f"{label} on {count}" for label, count in sorted(auth_counts.items()))
    lines += [
        "",
        f"{plural(len(routes), 'route')} ({summary}). Throttling is the stage's, per method (a method setting, else "
        "the stage-wide `/*` `*` one); the function validates every body again.",
        "",
    ]
    lines += table(["method", "path", "authorization", "request model", "validator", "throttling", "integration"], rows)
    lines.append("")
    return lines + section_buckets(inputs)


def section_buckets(inputs: Inputs) -> list[str]:
    """Each S3 bucket (the uploads bucket, the knowledge base's corpus bucket): how it is protected, how long it keeps
    objects, who may use it."""
    buckets = list(t.resources(inputs.templates, "AWS::S3::Bucket"))
    if not buckets:
        return []
    lines = [
        "### Buckets",
        "",
        "Each bucket's settings, the Deny statements of its policy, and every role statement that names it "
        "(section 2 has the roles in full).",
        "",
    ]
    for stack, logical_id, bucket in buckets:
        p = t.props(bucket)
        block = p.get("PublicAccessBlockConfiguration") or {}
        encryption = [
            rule.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm", "?")
            for rule in (p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration", [])
        ]
        rules = (p.get("LifecycleConfiguration") or {}).get("Rules", [])
        expiry = [f"after {rule['ExpirationInDays']} day(s)" for rule in rules if "ExpirationInDays" in rule]
        noncurrent = [
            f"noncurrent versions after {rule['NoncurrentVersionExpiration']['NoncurrentDays']} day(s)"
            for rule in rules
            if "NoncurrentDays" in (rule.get("NoncurrentVersionExpiration") or {})
        ]
        emptied = any(
            t.ref_id(t.props(custom).get("BucketName")) == logical_id
            for _, _, custom in t.resources(inputs.templates, "Custom::S3AutoDeleteObjects")
        )
        denies = [
            f"{', '.join(code(a) for a in statement.actions)} when {'; '.join(code(c) for c in statement.conditions)}"
            for _, _, policy in t.resources(inputs.templates, "AWS::S3::BucketPolicy")
            if t.ref_id(t.props(policy).get("Bucket")) == logical_id
            for statement in t.statements(t.props(policy).get("PolicyDocument"))
            if statement.effect == "Deny"
        ]
        grants = [
            f"{code(role.logical_id)}: {', '.join(code(a) for a in statement.actions)} on "
            + ", ".join(code(r) for r in statement.resources)
            for role in t.roles(inputs.templates)
            for _, statement in role.statements
            if any(f"${{{logical_id}." in resource for resource in statement.resources)
        ]
        lines += [
            f"Bucket {code(logical_id)} ({stack}):",
            "",
            "- public access: " + ("all blocked" if block and all(block.values()) else "⚠ not all blocked"),
            f"- encryption at rest: {', '.join(code(a) for a in encryption) or '⚠ none set'}"
            + (" (SSE-S3: S3-managed keys)" if encryption == ["AES256"] else ""),
            f"- versioning: {'on' if (p.get('VersioningConfiguration') or {}).get('Status') == 'Enabled' else 'off'}; "
            f"objects expire {', '.join(expiry) or ('never' if rules else '⚠ never')}"
            + "".join(f", {text}" for text in noncurrent)
            + f"; deletion policy {code(bucket.get('DeletionPolicy', 'Retain'))}"
            + (", emptied by `Custom::S3AutoDeleteObjects`" if emptied else ""),
            "- its policy denies: " + ("; ".join(denies) if denies else "⚠ nothing"),
            "- roles granted on it: " + ("; ".join(grants) if grants else "none"),
            "",
        ]
    return lines


def section_bedrock(inputs: Inputs, config: AppConfig) -> list[str]:
    lines = ["## 4. Bedrock: guardrail, models and their permissions", ""]
    functions = t.functions(inputs.templates)
    carried = {(family, logical_id) for function in functions for family, logical_id in function.guardrail_of.items()}
    unguarded = sorted(set(config.models) - {family for family, _ in carried})
    lines += [
        f"Families without a guardrail: {', '.join(code(f) for f in unguarded) or 'none'} (the functions' `GUARDRAILS`).",
        "",
    ]
    for guardrail in t.guardrails(inputs.templates):
        versions = ", ".join(code(v) for v in guardrail.versions) or "⚠ none (the function would use DRAFT)"
        guarded = sorted(family for family, logical_id in carried if logical_id == guardrail.logical_id)
        lines += [
            f"### Guardrail {code(guardrail.name)} ({code(guardrail.logical_id)}, {guardrail.stack})",
            "",
            f"- Pinned version: {versions}.",
            f"- Applied to the families: {', '.join(code(f) for f in guarded) or 'none'} (the functions' `GUARDRAILS`).",
            "- Prompt attack: "
            + (
                f"input {code(guardrail.prompt_attack[0])}, output {code(guardrail.prompt_attack[1])}."
                if guardrail.prompt_attack
                else "⚠ off."
            ),
            f"- Denied topics: {', '.join(code(x) for x in guardrail.denied_topics) or 'none'}; word filters: {guardrail.word_filters}; "
            f"contextual grounding: {', '.join(f'{code(k)} {v}' for k, v in guardrail.contextual_grounding) or 'none'}.",
            "",
            "Content filters:",
            "",
        ]
        lines += table(
            ["filter", "input", "output"], [(code(kind), code(i), code(o)) for kind, i, o in guardrail.content_filters]
        )
        lines += ["", "Sensitive information:", ""]
        sensitive = [(code(kind), "managed PII entity", "—", code(action)) for kind, action in guardrail.pii_entities]
        sensitive += [
            (code(name), f"regex: {description}", code(pattern), code(action))
            for name, pattern, action, description in guardrail.regexes
        ]
        lines += table(["entity", "kind", "pattern", "action"], sensitive or [("—", "none", "—", "—")])
        lines.append("")

    lines += [
        "### Models per family",
        "",
        "From the context (`models`, `modelPrices`); the function's `MODEL_IDS` must name the same.",
        "",
    ]
    deployed = {family: model for function in functions for family, model in function.models.items()}
    rows = []
    for family in sorted(config.models):
        target = config.models[family]
        price = config.monitoring.prices[target.model_id]
        kind = (
            f"inference profile → {code(target.foundation_model)} in "
            + (
                "any region (global)"
                if "*" in (target.profile_regions or ())
                else ", ".join(target.profile_regions or ())
            )
            if target.is_profile
            else "foundation model, in the stack's region"
        )
        agrees = "yes" if deployed.get(family) == target.model_id else f"⚠ no ({code(deployed.get(family, 'missing'))})"
        rows.append(
            [
                code(family),
                code(target.model_id),
                kind,
                f"${price.input_per_1k_tokens:g} / ${price.output_per_1k_tokens:g}",
                ", ".join(code(g) for f, g in sorted(carried) if f == family) or "no",
                agrees,
            ]
        )
    lines += table(["family", "model", "kind", "USD per 1k tokens in / out", "guardrail", "function agrees"], rows)
    lines.append("")

    grants = []
    for role in t.roles(inputs.templates):
        for _, statement in role.statements:
            for action in statement.actions:
                if action.startswith("bedrock:"):
                    for resource in statement.resources:
                        grants.append((role.logical_id, action, resource, statement))
    lines += [
        "### Bedrock permissions",
        "",
        "Every Bedrock action any role may take, one row per action and resource.",
        "",
    ]
    lines += table(
        ["role", "action", "resource", "condition", "sid"],
        [
            (
                code(role),
                code(action),
                code(resource),
                "<br>".join(code(c) for c in statement.conditions) or "—",
                code(statement.sid),
            )
            for role, action, resource, statement in sorted(grants, key=lambda g: (g[0], g[1], g[3].sid, g[2]))
        ]
        or [("—", "none", "—", "—", "—")],
    )
    lines += _knowledge_base_lines(inputs)
    lines += ["", "What each configured model may be invoked through:", ""]
    for model_id in sorted({target.model_id for target in config.models.values()}):
        target = next(x for x in config.models.values() if x.model_id == model_id)
        families = ", ".join(code(f) for f in sorted(f for f, x in config.models.items() if x.model_id == model_id))
        matching = sorted(
            {
                (action, resource)
                for _, action, resource, _ in grants
                if resource.endswith(f"/{model_id}") or resource.endswith(f"/{target.foundation_model}")
            }
        )
        lines.append(f"- {code(model_id)} ({families}):")
        lines += [f"  - {code(action)} on {code(resource)}" for action, resource in matching] or [
            "  - ⚠ no IAM grant names it"
        ]
    lines.append("")
    return lines


def _knowledge_base_lines(inputs: Inputs) -> list[str]:
    found = t.knowledge_bases(inputs.templates)
    lines = ["", "### Knowledge base", ""]
    if not found:
        return [
            *lines,
            "None (`-c knowledgeBase=false`): no task that searches one is served (its route is not created).",
        ]
    for kb in found:
        chunking = kb.chunking.get("ChunkingStrategy", "?")
        sizes = {
            key: value
            for detail in kb.chunking.values()
            if isinstance(detail, dict)
            for key, value in detail.items()
            if not isinstance(value, (dict, list))
        }
        lines += [
            f"- {code(kb.logical_id)} ({kb.stack}): {code(kb.storage)} storage, index {code(kb.index_name)} "
            f"({kb.dimension} dimensions, {code(kb.distance_metric)}, {code(kb.data_type)}; non-filterable metadata: "
            f"{', '.join(code(key) for key in kb.non_filterable_keys) or '⚠ none'}).",
            f"- Embedding model: {code(kb.embedding_model)}; chunking {code(chunking)} "
            + (", ".join(f"{key} {value}" for key, value in sorted(sizes.items())) or "")
            + ".",
            f"- Its service role {code(kb.role)}: see section 2 (embedding model, corpus bucket, index only).",
            f"- May search it (`bedrock:Retrieve`): {', '.join(code(role) for role in kb.retrievers) or '⚠ no role'}.",
        ]
    return lines


def _common_prefix(paths: Sequence[str]) -> str:
    parts = [path.split("/") for path in paths]
    prefix = []
    for column in zip(*parts, strict=False):
        if len(set(column)) != 1:
            break
        prefix.append(column[0])
    return "/".join(prefix)


def section_scanners(inputs: Inputs) -> list[str]:
    lines = ["## 5. Scanners", "", "### cdk-nag (AwsSolutions, at every synth)", ""]
    nag = inputs.nag
    if not nag:
        lines += ["⚠ No cdk-nag report in the assembly.", ""]
    else:
        suppressed = nag.get("suppressedViolations", [])
        violations = nag.get("violations", [])
        lines += [
            f"Conclusion {code(nag.get('conclusion'))}: {plural(len(violations), 'unacknowledged finding')}, "
            f"{plural(len(suppressed), 'acknowledged finding')} under {plural(len({v['ruleName'] for v in suppressed}), 'rule')}.",
            "",
        ]
        if violations:
            lines += table(
                ["rule", "construct", "description"],
                [
                    (
                        code(v["ruleName"]),
                        "<br>".join(code(c["constructPath"]) for c in v.get("violatingConstructs", [])),
                        cell(v.get("description", "")),
                    )
                    for v in sorted(violations, key=lambda v: v["ruleName"])
                ],
            )
            lines.append("")
        grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
        for violation in suppressed:
            grouped[(violation["ruleName"], violation.get("reason", ""))].append(violation.get("acknowledgedAt", ""))
        rows = []
        for (rule, reason), places in sorted(grouped.items()):
            places = sorted(places)
            where = (
                "<br>".join(code(p) for p in places)
                if len(places) <= 3
                else f"{len(places)} constructs under {code(_common_prefix(places))}"
            )
            rows.append((code(rule), where, cell(reason)))
        if rows:
            lines += table(["acknowledged rule", "where", "reason"], rows)
            lines.append("")

    lines += ["### cfn-lint", ""]
    if inputs.cfn_lint is None:
        lines += ["Not run.", ""]
    else:
        findings = inputs.cfn_lint.output
        levels: dict[str, int] = defaultdict(int)
        for finding in findings:
            levels[finding.get("Level", "?")] += 1
        by_level = ", ".join(f"{level} {count}" for level, count in sorted(levels.items()))
        lines += [
            f"{plural(len(findings), 'finding')}{f' ({by_level})' if findings else ''} on {plural(len(inputs.templates), 'template')}, "
            f"with [`.cfnlintrc.yaml`](../.cfnlintrc.yaml) (exit code {inputs.cfn_lint.returncode}).",
            "",
        ]
        if findings:
            lint_rows = sorted(
                (
                    code(f.get("Rule", {}).get("Id", "?")),
                    f.get("Level", "?"),
                    code(Path(f.get("Filename", "")).name),
                    code("/".join(str(p) for p in f.get("Location", {}).get("Path", []))),
                    cell(f.get("Message", "")),
                )
                for f in findings
            )
            lines += table(["rule", "level", "template", "path", "message"], lint_rows)
            lines.append("")

    lines += ["### checkov (CloudFormation checks)", ""]
    if inputs.checkov is None:
        lines += ["Not run.", ""]
        return lines
    passed, failed, skipped = (checkov_checks(inputs.checkov, outcome) for outcome in ("passed", "failed", "skipped"))
    lines += [
        f"{len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped (exit code {inputs.checkov.returncode}).",
        "",
    ]
    names = {check["check_id"]: check.get("check_name", "") for check in passed + failed + skipped}
    if failed:
        lines += table(
            ["failed check", "name", "resource"],
            sorted((code(c["check_id"]), cell(c.get("check_name", "")), code(c.get("resource", ""))) for c in failed),
        )
        lines.append("")
    reported = {(c["check_id"], c.get("resource", "")) for c in skipped}
    skip_rows: list[tuple[str, str, str, str]] = []
    for stack, logical_id, resource in t.resources(inputs.templates):
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", []):
            address = f"{resource['Type']}.{logical_id}"
            seen = "" if (skip["id"], address) in reported else " ⚠ (not reported as skipped by checkov)"
            skip_rows.append(
                (
                    code(skip["id"]),
                    cell(names.get(skip["id"], "")),
                    f"{code(logical_id)} ({stack})",
                    cell(skip.get("comment", "")) + seen,
                )
            )
    if skip_rows:
        lines += ["Skips recorded in the templates' metadata (`Metadata.checkov.skip`), with their reasons:", ""]
        lines += table(["check", "name", "resource", "reason"], sorted(skip_rows))
        lines.append("")
    return lines


def _fixed_costs(inputs: Inputs) -> tuple[list[list[str]], Decimal, Decimal, list[str]]:
    """(rows, monthly at list price, monthly within the free tier, unpriced types)."""
    templates = inputs.templates
    rows = []
    total = Decimal(0)
    free_tier = Decimal(0)
    keys = list(t.resources(templates, "AWS::KMS::Key"))
    if keys:
        rotating = sum(1 for _, _, key in keys if t.props(key).get("EnableKeyRotation"))
        amount = PRICE["kms_key_month"] * len(keys)
        note = (
            f"; {rotating} with yearly rotation (up to $2 a month more each after its second rotation)"
            if rotating
            else ""
        )
        rows.append(
            [
                "KMS customer managed keys",
                plural(len(keys), "key") + note,
                f"{money(PRICE['kms_key_month'])} per key",
                money(amount),
            ]
        )
        total += amount
        free_tier += amount
    dashboards = list(t.resources(templates, "AWS::CloudWatch::Dashboard"))
    if dashboards:
        amount = PRICE["dashboard_month"] * len(dashboards)
        rows.append(
            [
                "CloudWatch dashboards",
                plural(len(dashboards), "dashboard"),
                f"{money(PRICE['dashboard_month'])} each (first {FREE_DASHBOARDS} per account free)",
                money(amount),
            ]
        )
        total += amount
        free_tier += PRICE["dashboard_month"] * max(0, len(dashboards) - FREE_DASHBOARDS)
    alarms = t.alarms(templates)
    if alarms:
        metrics = sum(alarm.metrics for alarm in alarms)
        amount = PRICE["alarm_metric_month"] * metrics
        rows.append(
            [
                "CloudWatch alarms",
                f"{plural(len(alarms), 'alarm')} on {plural(metrics, 'metric')} (standard resolution)",
                f"{money(PRICE['alarm_metric_month'])} per alarm metric (first {FREE_ALARM_METRICS} per account free)",
                money(amount),
            ]
        )
        total += amount
        free_tier += PRICE["alarm_metric_month"] * max(0, metrics - FREE_ALARM_METRICS)
    for _, logical_id, acl in t.resources(templates, "AWS::WAFv2::WebACL"):
        rules = len(t.props(acl).get("Rules") or [])
        amount = PRICE["waf_acl_month"] + PRICE["waf_rule_month"] * rules
        rows.append(
            [
                f"WAF web ACL {code(logical_id)}",
                plural(rules, "rule"),
                f"{money(PRICE['waf_acl_month'])} per ACL + {money(PRICE['waf_rule_month'])} per rule",
                money(amount),
            ]
        )
        total += amount
        free_tier += amount
    for stage in t.stages(templates):
        if stage.cache_cluster:
            rows.append(
                [
                    f"API cache on stage {code(stage.name)}",
                    "cache cluster",
                    "billed per hour by size",
                    "⚠ not priced here",
                ]
            )
    known = IDLE_FREE_TYPES | PRICED_TYPES
    unpriced = sorted({kind for _, _, resource in t.resources(templates) if (kind := resource["Type"]) not in known})
    return rows, total, free_tier, unpriced


def _per_request(inputs: Inputs, config: AppConfig) -> tuple[list[str], list[list[str]]]:
    functions = t.functions(inputs.templates)
    memory = max((f.memory_mb for f in functions), default=0)
    architecture = functions[0].architecture if functions else "arm64"
    gb_second = PRICE["lambda_gb_second_arm64" if architecture == "arm64" else "lambda_gb_second_x86_64"]
    waf = any(True for _ in t.resources(inputs.templates, "AWS::WAFv2::WebACL"))
    tables = any(True for _ in t.resources(inputs.templates, "AWS::DynamoDB::Table"))
    million = Decimal(1_000_000)
    remembered = [
        "     (+ a remembered chat turn, on the DynamoDB table: one strongly consistent read, 1 read unit per 4 KB of",
        f"        the conversation, at {money(PRICE['dynamodb_read_per_million'], 3)} per million; one write, 1 write "
        f"unit per KB, and 2 for the index, at {money(PRICE['dynamodb_write_per_million'], 3)} per million: at most "
        "about $0.0002 for a",
        "        conversation at its 300 KB bound. Its stored history is sent to the model again with each turn: its",
        "        tokens are input tokens every turn, the larger cost; storage "
        f"{money(PRICE['dynamodb_storage_gb_month'])} per GB-month, point-in-time recovery "
        f"{money(PRICE['dynamodb_pitr_gb_month'])} per GB-month)",
    ]
    formula = [
        "```",
        f"cost ≈ API Gateway (REST)          {money(PRICE['rest_api_per_million'])} per million requests",
        f"     + Lambda requests             {money(PRICE['lambda_per_million'])} per million",
        f"     + Lambda duration             seconds × ({memory} MB / 1024) × ${gb_second} per GB-second ({architecture})",
        *([f"     + WAF requests                {money(PRICE['waf_per_million'])} per million"] if waf else []),
        "     + input tokens / 1000  × the family's model input price (modelPrices)",
        "     + output tokens / 1000 × the family's model output price",
        "     (+ CloudWatch Logs ingestion, $0.50 per GB, and X-Ray traces beyond the free tier)",
        "     (+ on guarded families, the guardrail: content filters and managed PII filters per 1,000 text units",
        "        evaluated, about $0.15 and $0.10 at the time of writing; regular-expression filters are free)",
        *(
            [
                f"     (+ a file sent by upload: one S3 PUT, {money(PRICE['s3_put_per_thousand'], 3)} per 1,000, one GET",
                f"        per use, {money(PRICE['s3_get_per_thousand'], 4)} per 1,000, and storage, "
                f"{money(PRICE['s3_standard_gb_month'], 3)} per GB-month, for the",
                "        day(s) it lives; a file's content is billed as the model's input tokens)",
            ]
            if any(route.path == UPLOADS_PATH for route in t.api_routes(inputs.templates))
            else []
        ),
        *(remembered if tables else []),
        "```",
    ]
    rows = []
    seconds = EXAMPLE_SECONDS
    fixed_part = PRICE["rest_api_per_million"] / million + PRICE["lambda_per_million"] / million
    fixed_part += seconds * Decimal(memory) / Decimal(1024) * gb_second
    if waf:
        fixed_part += PRICE["waf_per_million"] / million
    for model_id in sorted({target.model_id for target in config.models.values()}):
        price = config.monitoring.prices[model_id]
        tokens = Decimal(EXAMPLE_INPUT_TOKENS) / 1000 * Decimal(str(price.input_per_1k_tokens))
        tokens += Decimal(EXAMPLE_OUTPUT_TOKENS) / 1000 * Decimal(str(price.output_per_1k_tokens))
        total = fixed_part + tokens
        families = ", ".join(code(f) for f in sorted(f for f, x in config.models.items() if x.model_id == model_id))
        rows.append(
            [
                f"{code(model_id)} ({families})",
                money(fixed_part, 7),
                money(tokens, 7),
                money(total, 5),
                money(total * 1000, 2),
                f"{(tokens / total * 100):.0f} %",
            ]
        )
    return formula, rows


def section_cost(inputs: Inputs, config: AppConfig) -> list[str]:
    rows, total, free_tier, unpriced = _fixed_costs(inputs)
    lines = [
        "## 6. Cost",
        "",
        "us-east-1 list prices at the time of writing ([Cost](../../docs/cost.md#per-request)); check the AWS "
        "pricing pages for your region. Derived from the templates: what is always on, and what each request uses.",
        "",
        "### Fixed monthly cost at idle",
        "",
    ]
    if rows:
        lines += table(["item", "in the templates", "unit price", "per month"], rows)
        lines.append("")
    lines += [
        f"**About {money(free_tier)} to {money(total)} a month at idle** ({money(free_tier)} when the account's free "
        f"tier still covers the dashboards and alarms, {money(total)} at list price). Everything else is charged per "
        "use or for what it stores: API Gateway, Lambda, Bedrock, X-Ray, the function's custom metrics (prorated by the "
        "hour: nothing in hours without traffic), SNS, and CloudWatch Logs storage.",
        "",
    ]
    if unpriced:
        lines += ["⚠ Not priced by this report (check them): " + ", ".join(code(kind) for kind in unpriced) + ".", ""]
    formula, examples = _per_request(inputs, config)
    lines += ["### Per request", "", *formula, ""]
    lines += [
        f"Worked example (docs/cost.md's): {EXAMPLE_INPUT_TOKENS:,} input tokens, {EXAMPLE_OUTPUT_TOKENS:,} output "
        f"tokens, {EXAMPLE_SECONDS} s of function time at the configured memory:",
        "",
    ]
    waf = " + WAF" if any(True for _ in t.resources(inputs.templates, "AWS::WAFv2::WebACL")) else ""
    lines += table(
        ["model", f"API Gateway + Lambda{waf}", "tokens", "per request", "per 1,000 requests", "tokens' share"],
        examples,
    )
    lines.append("")
    lines += _knowledge_base_cost(inputs)
    return lines


def _knowledge_base_cost(inputs: Inputs) -> list[str]:
    """What the knowledge base costs: nothing fixed (no cluster, no capacity unit), storage, ingestion and queries."""
    if not t.knowledge_bases(inputs.templates):
        return []
    embed = PRICE["titan_embed_v2_per_1k_tokens"]
    return [
        "### Knowledge base: storage, ingestion and searches",
        "",
        "A search (`bedrock:Retrieve`) adds, on top of the Converse call above (whose input grows by the passages: "
        "about 1,500 tokens for 5 passages of 300 tokens):",
        "",
        "```",
        f"cost ≈ the question embedded          tokens / 1000 × ${embed} (Titan Text Embeddings V2)",
        f"     + one S3 Vectors query            {money(PRICE['s3_vectors_per_million_queries'])} per million, plus its per-TB data processed",
        "     (Retrieve itself and a VECTOR knowledge base carry no charge)",
        "```",
        "",
        "The knowledge base has no fixed cost: it is storage and use (prices to be checked on the S3 and Bedrock "
        "pricing pages):",
        "",
        "```",
        f"idle    ≈ vectors stored   GB × {money(PRICE['s3_vectors_gb_month'])} per month (4 B × dimension + text and metadata per chunk)",
        f"        + the corpus       GB × {money(PRICE['s3_standard_gb_month'], 3)} per month (S3 Standard)",
        f"ingest  ≈ tokens embedded / 1000 × ${embed} + vectors written GB × {money(PRICE['s3_vectors_put_gb'])}",
        "```",
        "",
    ]


def as_json(value: Any) -> Any:
    """A ``-c key=value`` string as the config reads it (``"512"`` -> 512, ``"true"`` -> true, objects as JSON)."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return parsed if not isinstance(parsed, str) else value
    return value


def section_context(inputs: Inputs) -> list[str]:
    lines = [
        "## 7. Context in effect",
        "",
        "The app's own keys (CDK feature flags are left out); `cdk.json` holds the defaults, `-c key=value` overrides them.",
        "",
    ]
    rows = []
    for key in sorted(CONTEXT_KEYS):
        value = as_json(inputs.context.get(key))
        default = inputs.defaults.get(key)
        shown = "unset" if value in (None, "") else code(json.dumps(value, sort_keys=True, ensure_ascii=False))
        if value == default:
            source = "cdk.json" if key in inputs.defaults else "default (unset)"
        else:
            source = (
                "**override** (cdk.json: "
                + ("unset" if default in (None, "") else code(json.dumps(default, sort_keys=True, ensure_ascii=False)))
                + ")"
            )
        rows.append((code(key), shown, source))
    lines += table(["key", "value", "source"], rows)
    lines.append("")
    return lines


def section_summary(inputs: Inputs, config: AppConfig, roles: Sequence[JudgedRole]) -> list[str]:
    findings = iam_findings(roles)
    routes = t.api_routes(inputs.templates)
    attention: list[str] = []
    for finding in findings:
        if finding.needs_attention:
            attention.append(
                f"IAM: {code(finding.statement.sid)} in {code(finding.policy)} ({'; '.join(finding.reasons)}) — {finding.note}."
            )
    managed = managed_policies(inputs, roles)
    for role, arn, ack in managed:
        if ack is None:
            attention.append(f"IAM: AWS managed policy {code(arn)} on {code(role.logical_id)} is not acknowledged.")
    for route in routes:
        if route.authorization == "NONE" and not route.api_key_required:
            attention.append(f"API: {route.method} {code(route.path)} has no authorization.")
        elif route.authorization == "NONE":
            attention.append(
                f"API: {route.method} {code(route.path)} relies on an API key only (it identifies a caller; it does not authorize)."
            )
        if route.method in ("POST", "PUT", "PATCH") and not (route.request_model and route.validator):
            attention.append(f"API: {route.method} {code(route.path)} has no request model or validator.")
    for stage in t.stages(inputs.templates):
        if stage.throttle_for("*", "/*") is None:
            attention.append(f"API: stage {code(stage.name)} has no stage-wide throttling.")
    violations = inputs.nag.get("violations", []) if inputs.nag else []
    if violations:
        attention.append(f"cdk-nag: {plural(len(violations), 'unacknowledged finding')}.")
    if inputs.cfn_lint is not None and inputs.cfn_lint.output:
        attention.append(f"cfn-lint: {plural(len(inputs.cfn_lint.output), 'finding')}.")
    failed = checkov_checks(inputs.checkov, "failed") if inputs.checkov is not None else []
    if failed:
        attention.append(f"checkov: {plural(len(failed), 'failed check')}.")

    counts = ", ".join(
        f"{stack} ({plural(sum(n for k, n in t.count_types(inputs.templates[stack]).items() if k != 'AWS::CDK::Metadata'), 'resource')})"
        for stack in sorted(inputs.templates)
    )
    auth: dict[str, int] = defaultdict(int)
    for route in routes:
        auth[route.auth_label] += 1
    acknowledged = sum(1 for f in findings if f.acknowledged)
    named = sum(1 for f in findings if f.note == "named resources")
    resource_statements = [
        s for _, _, _, policy in t.resource_policies(inputs.templates) for s in policy if s.effect == "Allow"
    ]
    allows = sum(1 for judged in roles for _, s, _ in judged.statements if s.effect == "Allow")
    _, total, free_tier, _ = _fixed_costs(inputs)
    _, examples = _per_request(inputs, config)
    nag = inputs.nag
    nag_line = (
        f"cdk-nag {code(nag.get('conclusion'))} ({len(nag.get('violations', []))} unacknowledged, {len(nag.get('suppressedViolations', []))} acknowledged)"
        if nag
        else "cdk-nag: no report"
    )
    lint_line = (
        f"cfn-lint {plural(len(inputs.cfn_lint.output), 'finding')}"
        if inputs.cfn_lint is not None
        else "cfn-lint not run"
    )
    checkov_line = (
        "checkov " + ", ".join(f"{len(checkov_checks(inputs.checkov, o))} {o}" for o in ("passed", "failed", "skipped"))
        if inputs.checkov is not None
        else "checkov not run"
    )
    lines = [
        "## At a glance",
        "",
        f"- **Stacks**: {counts}.",
        f"- **Routes**: {len(routes)}; authorization: "
        + (", ".join(f"{label} on {n}" for label, n in sorted(auth.items())) or "none")
        + ".",
        f"- **IAM**: {plural(len(roles), 'role')}, {plural(allows, 'Allow statement')}; broader than one resource: "
        f"{len(findings)} ({acknowledged} acknowledged wildcard, {named} on named resources only, "
        f"{sum(1 for f in findings if f.needs_attention)} not covered); "
        f"{plural(len(managed), 'AWS managed policy', 'AWS managed policies')} ({sum(1 for m in managed if m[2])} acknowledged); "
        f"resource-based policies: {plural(len(resource_statements), 'Allow statement')}, {sum(1 for s in resource_statements if s.broadening)} with a wildcard or several resources (section 2).",
        f"- **Scanners**: {nag_line}; {lint_line}; {checkov_line}.",
        f"- **Cost**: {money(free_tier)} to {money(total)} a month at idle; per request "
        + ("; ".join(f"{row[3]} with {row[0].split(' (')[0]}" for row in examples) or "—")
        + f" for the worked example ({EXAMPLE_INPUT_TOKENS:,} in, {EXAMPLE_OUTPUT_TOKENS:,} out tokens).",
        "",
        "**Needs attention:** " + ("nothing found." if not attention else ""),
    ]
    lines += [f"- ⚠ {item}" for item in attention]
    lines.append("")
    return lines


def report(inputs: Inputs) -> str:
    """The whole review as Markdown; the same inputs give the same bytes."""
    config = config_of(inputs)
    roles = judged_roles(inputs)
    lines = [
        f"# Review of the `{config.stack_name}` stacks (synthesized, not deployed)",
        "",
        "Generated by `make review` ([`tools/review.py`](../../tools/review.py)) from the CloudFormation templates the app "
        "synthesizes with the context in [section 7](#7-context-in-effect), with no AWS account. Regenerate it after "
        "any change; it is not committed.",
        "",
    ]
    lines += section_summary(inputs, config, roles)
    lines += section_resources(inputs)
    lines += section_iam(inputs, roles)
    lines += section_api(inputs)
    lines += section_bedrock(inputs, config)
    lines += section_scanners(inputs)
    lines += section_cost(inputs, config)
    lines += section_context(inputs)
    return "\n".join(lines).rstrip("\n") + "\n"


# --- command line -----------------------------------------------------------------------------------------------


def shown(path: Path) -> Path:
    """``path`` relative to the working folder when it is inside it (as a user would type it)."""
    path = path.resolve()
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "-c",
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a context value, as with cdk -c",
    )
    parser.add_argument(
        "--outdir",
        type=Path,
        default=OUTDIR,
        help="where to write the reviewed cloud assembly (default: cdk.out/review; not cdk.out, which is make synth's)",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the report (default: cdk.out/review/review.md)")
    args = parser.parse_args(argv)
    try:
        defaults = cdk_json_context()
        context = {**defaults, **parse_overrides(args.context)}
        assembly = synthesize(context, args.outdir)
    except ValueError as error:  # a ConfigError (a bad -c value) or a -c that is not key=value: one line
        print(f"review: {error}", file=sys.stderr)
        return 1
    files = [str(assembly.template_files[stack]) for stack in sorted(assembly.template_files)]
    inputs = Inputs(
        templates=assembly.templates,
        context=context,
        nag=assembly.nag,
        logical_ids=assembly.logical_ids,
        cfn_lint=run_cfn_lint(files),
        checkov=run_checkov(files),
        defaults=defaults,
    )
    text = report(inputs)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    output = args.output.resolve()
    print(f"review: {len(text.encode('utf-8')):,} bytes written to {shown(output)} (templates: {shown(args.outdir)}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
