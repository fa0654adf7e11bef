"""`make review` (tools/review.py): the report generated from this session's synthesis and scanner runs.

The report is a pure function of the templates, cdk-nag's report, the scanners' outputs and the context, so these
tests pass it the session's real inputs (checkov and cfn-lint ran once, in tests/conftest.py) and edited copies of
the templates, without running a scanner again.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from endpoints import UPLOADS_PATH
from genai_core.catalog import load_catalog
from stacks.components.rest_api import DISCOVERY_PATH, UPLOAD_MODEL, model_name
from stacks.config import CONTEXT_KEYS
from tests.support import API_STACK, CDK_CONTEXT, MODEL_ID, ROOT, cdk_context
from tests.test_infrastructure import CONVERSATION_ROUTES
from tools import review
from tools.assembly import load, parse_overrides
from tools.scanners import ScannerRun, checkov_checks

COST_PAGES = ("docs/cost.md", "README.pt-BR.md")
PARTITION, REGION, ACCOUNT = "${AWS::Partition}", "${AWS::Region}", "${AWS::AccountId}"


@pytest.fixture(scope="module")
def inputs(assembly, templates, cfn_lint_run, checkov_run) -> review.Inputs:
    synthesized = load(Path(assembly.directory))
    return review.Inputs(
        templates=templates,
        context=cdk_context(),
        nag=synthesized.nag,
        logical_ids=synthesized.logical_ids,
        cfn_lint=cfn_lint_run,
        checkov=checkov_run,
    )


@pytest.fixture(scope="module")
def report(inputs) -> str:
    return review.report(inputs)


def table_after(text: str, heading: str) -> list[list[str]]:
    """The cells of the first Markdown table after ``heading`` (escaped pipes kept inside their cell)."""
    lines = text[text.index(heading) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def unquote(cell: str) -> str:
    return cell.strip("`")


def with_statement(templates: Any, statement: dict[str, Any]) -> dict[str, Any]:
    """A copy of the templates whose function policy has one more statement."""
    planted = copy.deepcopy(templates)
    for key, resource in planted[API_STACK]["Resources"].items():
        if resource["Type"] == "AWS::IAM::Policy" and key.startswith("GenAiRole"):
            resource["Properties"]["PolicyDocument"]["Statement"].append(statement)
    return planted


def test_the_report_lists_every_bedrock_permission_with_its_resource_arns(report, templates):
    guardrails = [key for key, r in templates[API_STACK]["Resources"].items() if r["Type"] == "AWS::Bedrock::Guardrail"]
    foundation = MODEL_ID.split(".", 1)[1]
    profile = f"arn:{PARTITION}:bedrock:{REGION}:{ACCOUNT}:inference-profile/{MODEL_ID}"
    expected = {("bedrock:ApplyGuardrail", f"${{{guardrail}.GuardrailArn}}") for guardrail in guardrails}
    for action in ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"):  # the API's and the stream's roles
        expected.add((action, profile))
        expected |= {
            (action, f"arn:{PARTITION}:bedrock:{region}::foundation-model/{foundation}")
            for region in CDK_CONTEXT["inferenceProfileRegions"][MODEL_ID.split(".")[0]]
        }

    # The knowledge base: its role embeds with the configured model only, and the API's function may search it.
    (knowledge_base,) = [
        key for key, r in templates[API_STACK]["Resources"].items() if r["Type"] == "AWS::Bedrock::KnowledgeBase"
    ]
    embedding = CDK_CONTEXT["knowledgeBase"]["embeddingModel"]
    expected.add(("bedrock:InvokeModel", f"arn:{PARTITION}:bedrock:{REGION}::foundation-model/{embedding}"))
    expected.add(("bedrock:Retrieve", f"${{{knowledge_base}.KnowledgeBaseArn}}"))

    rows = table_after(report, "### Bedrock permissions")
    assert {(unquote(row[1]), unquote(row[2])) for row in rows} == expected
    # the routed foundation models only through the configured profile
    routed = [row for row in rows if f"foundation-model/{foundation}" in row[2]]
    assert routed and all(unquote(row[3]) == f"StringEquals bedrock:InferenceProfileArn: {profile}" for row in routed)
    per_model = report.split("What each configured model may be invoked through:")[1].split("##")[0]
    for action, resource in expected:
        if action == "bedrock:InvokeModel" and not resource.endswith(f"/{embedding}"):  # a configured model's
            assert f"`bedrock:InvokeModel` on `{resource}`" in per_model


def test_the_report_shows_the_uploads_bucket_its_policy_and_its_one_grant(report, templates):
    from tests.test_infrastructure import resources, uploads_bucket

    bucket_id, _ = uploads_bucket(templates[API_STACK])
    buckets = report[report.index("### Buckets") : report.index("## 4.")]
    listed = re.findall(r"^Bucket `(\w+)`", buckets, flags=re.MULTILINE)
    assert sorted(listed) == sorted(resources(templates[API_STACK], "AWS::S3::Bucket"))  # the corpus bucket too
    section = buckets[buckets.index(f"Bucket `{bucket_id}`") :].split("\n\n", 2)[1]  # the uploads bucket's lines
    assert "- public access: all blocked" in section
    assert "`AES256` (SSE-S3" in section and f"expire after {CDK_CONTEXT['uploadsExpireDays']} day(s)" in section
    assert "`s3:PutObject` when `StringNotEquals s3:signatureversion: AWS4-HMAC-SHA256`" in section
    assert "`Bool aws:SecureTransport: false`" in section
    (grants,) = [line for line in section.splitlines() if line.startswith("- roles granted on it: ")]
    assert grants.count("`s3:") == 2 and f"`${{{bucket_id}.Arn}}/uploads/*`" in grants  # one statement, the prefix
    assert "a file sent by upload: one S3 PUT" in report


def test_the_report_gives_the_authorization_model_validator_and_throttling_of_every_route(report):
    rows = {(row[0], unquote(row[1])): row for row in table_after(report, "| method | path | authorization |")}
    catalog = load_catalog()

    streams = {("POST", route.stream_path) for route in catalog if route.streaming}
    posts = {("POST", route.path) for route in catalog} | streams
    others = {("GET", DISCOVERY_PATH), ("POST", UPLOADS_PATH)} | CONVERSATION_ROUTES
    assert set(rows) == posts | others
    assert len(rows) == len(catalog) + len(streams) + len(others)
    throttling = f"{CDK_CONTEXT['throttlingRateLimit']}/s, burst {CDK_CONTEXT['throttlingBurstLimit']}"
    for (method, path), row in rows.items():
        assert row[2] == "AWS_IAM", (method, path)
        assert row[5] == throttling
    for route in catalog:
        for path in (route.path, route.stream_path) if route.streaming else (route.path,):
            row = rows[("POST", path)]
            assert unquote(row[3]) == f"{model_name(route)} ($default), {model_name(route)} (application/json)"
            assert row[4] == "body + parameters"
    assert rows[("GET", DISCOVERY_PATH)][3] == "— (no body)"
    assert unquote(rows[("POST", UPLOADS_PATH)][3]) == f"{UPLOAD_MODEL} ($default), {UPLOAD_MODEL} (application/json)"
    for route in CONVERSATION_ROUTES:  # no body; API Gateway checks the path parameter (and the query's names)
        assert (rows[route][3], rows[route][4]) == ("— (no body)", "body + parameters")
    assert f"authorization: AWS_IAM on {len(rows)}." in report


def test_the_xray_wildcard_is_shown_as_acknowledged_and_nothing_needs_attention(report):
    (xray,) = [row for row in table_after(report, "### Role `GenAiRole") if "xray:PutTraceSegments" in row[3]]
    assert xray[4] == "`*`"
    assert xray[6] == "⚑ resource `*` — acknowledged"
    assert (
        "acknowledged: cdk-nag `IAM5[Resource::*]`: Only xray:PutTraceSegments and xray:PutTelemetryRecords" in report
    )
    assert "**Needs attention:** nothing found." in report


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, "resource `*`"),
        (
            {"Effect": "Allow", "Action": "bedrock:*", "Resource": "arn:aws:bedrock:us-east-1::foundation-model/x"},
            "wildcard action `bedrock:*`",
        ),
        (
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"},
            "wildcard in `arn:aws:s3:::bucket/*`",
        ),
    ],
)
def test_a_planted_wildcard_is_flagged_and_not_taken_as_acknowledged(inputs, statement, reason):
    # The X-Ray acknowledgment (IAM5[Resource::*]) sits on the same policy: it must not cover an S3 action.
    planted = with_statement(inputs.templates, statement)
    text = review.report(review.Inputs(**{**vars(inputs), "templates": planted}))

    (row,) = [row for row in table_after(text, "### Role `GenAiRole") if unquote(row[3]) == statement["Action"]]
    assert row[6].startswith("⚠ ") and reason in row[6] and "NOT acknowledged" in row[6]
    assert f"**Needs attention:** \n- ⚠ IAM: {row[0]}" in text
    assert "1 not covered" in text


def test_the_report_describes_the_knowledge_base_who_may_search_it_and_what_it_costs(report, templates):
    resources = templates[API_STACK]["Resources"]
    (role,) = [key for key in resources if key.startswith("GenAiRole") and resources[key]["Type"] == "AWS::IAM::Role"]
    (index,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::S3Vectors::Index"]
    section = report.split("### Knowledge base", 1)[1].split("###", 1)[0]

    assert f"index `{index['IndexName']}` ({CDK_CONTEXT['knowledgeBase']['dimension']} dimensions, `cosine`" in section
    assert f"Embedding model: `{CDK_CONTEXT['knowledgeBase']['embeddingModel']}`" in section
    assert f"May search it (`bedrock:Retrieve`): `{role}`." in section
    cost = report.split("## 6. Cost", 1)[1].split("## 7.", 1)[0]
    assert "### Knowledge base: storage, ingestion and searches" in cost and "no fixed cost" in cost
    assert "⚠ Not priced" not in cost


def test_without_a_knowledge_base_the_report_says_so(inputs):
    from tests.conftest import synthesize

    templates = synthesize(cdk_context(knowledgeBase=False))
    text = review.report(review.Inputs(**{**vars(inputs), "templates": templates}))
    assert "None (`-c knowledgeBase=false`)" in text.split("### Knowledge base", 1)[1]
    assert "Retrieve" not in text.split("## 6. Cost", 1)[1].split("## 7.", 1)[0]


def test_a_method_without_authorization_is_flagged(inputs):
    planted = copy.deepcopy(inputs.templates)
    method = planted[API_STACK]["Resources"]["RestApiusecasesGET06FBFDE1"]
    method["Properties"]["AuthorizationType"] = "NONE"

    text = review.report(review.Inputs(**{**vars(inputs), "templates": planted}))
    row = {(r[0], unquote(r[1])): r for r in table_after(text, "| method | path | authorization |")}[
        ("GET", DISCOVERY_PATH)
    ]
    assert row[2] == "⚠ NONE"
    assert "- ⚠ API: GET `/use-cases` has no authorization." in text


def test_two_generations_are_byte_identical_and_independent_of_input_order(inputs, report, assembly):
    shuffled = {
        stack: {**template, "Resources": dict(reversed(list(template["Resources"].items())))}
        for stack, template in reversed(list(inputs.templates.items()))
    }
    again = review.report(review.Inputs(**{**vars(inputs), "templates": shuffled}))

    assert review.report(inputs).encode() == report.encode() == again.encode()
    assert str(assembly.directory) not in report and "/tmp" not in report  # no temporary paths


def test_the_scanner_section_shows_the_runs_it_was_given(inputs, report):
    passed, skipped = (len(checkov_checks(inputs.checkov, outcome)) for outcome in ("passed", "skipped"))
    recorded = sum(
        len(r.get("Metadata", {}).get("checkov", {}).get("skip", []))
        for t in inputs.templates.values()
        for r in t["Resources"].values()
    )
    assert skipped == recorded > 0
    assert f"{passed} passed, 0 failed, {skipped} skipped (exit code 0)." in report
    assert f"{len(inputs.cfn_lint.output)} findings on {len(inputs.templates)} templates" in report
    for resource in inputs.templates[API_STACK]["Resources"].values():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert skip["comment"] in report
    for violation in inputs.nag["suppressedViolations"]:
        assert violation["reason"] in report

    failing = ScannerRun(
        [
            {
                "results": {
                    "passed_checks": [],
                    "skipped_checks": [],
                    "failed_checks": [
                        {
                            "check_id": "CKV_AWS_999",
                            "check_name": "A planted failure",
                            "resource": "AWS::Lambda::Function.X",
                        }
                    ],
                }
            }
        ],
        1,
        "",
    )
    lint = ScannerRun(
        [
            {
                "Rule": {"Id": "W1234"},
                "Level": "Warning",
                "Filename": "/somewhere/Api.template.json",
                "Location": {"Path": ["Resources", "X"]},
                "Message": "planted",
            }
        ],
        4,
        "",
    )
    text = review.report(review.Inputs(**{**vars(inputs), "checkov": failing, "cfn_lint": lint}))
    assert "| `CKV_AWS_999` | A planted failure | `AWS::Lambda::Function.X` |" in text
    assert "| `W1234` | Warning | `Api.template.json` | `Resources/X` | planted |" in text
    assert "- ⚠ checkov: 1 failed check." in text and "- ⚠ cfn-lint: 1 finding." in text
    assert "/somewhere" not in text


def test_the_cost_pages_agree_with_the_report(report):
    english = (ROOT / "docs" / "cost.md").read_text(encoding="utf-8")
    portuguese = (ROOT / "README.pt-BR.md").read_text(encoding="utf-8")
    # The report computes the worked example and counts the alarm metrics from the templates and modelPrices; the
    # cost page and the Portuguese guide quote the same figures.
    assert "| $0.00096 | $0.96 | 99 % |" in report
    (total,) = re.findall(r"\| \$(0\.\d+) \| \$[\d.]+ \| \d+ % \|", report)
    assert f"**about ${total}**" in english
    assert f"**cerca de US$ {total.replace('.', ',')}**" in portuguese
    alarms, metrics = re.search(r"(\d+) alarms on (\d+) metrics", report).groups()  # type: ignore[union-attr]
    assert f"{alarms} alarms on {metrics} metrics" in english
    assert f"{alarms} alarmes sobre {metrics} métricas" in portuguese
    fixed = table_after(report, "### Fixed monthly cost at idle")
    assert [row[0] for row in fixed] == ["KMS customer managed keys", "CloudWatch dashboards", "CloudWatch alarms"]
    assert "**About $1.00 to $4.70 a month at idle**" in report  # docs/cost.md rounds it: "$1 to $5 a month"
    assert f"({CDK_CONTEXT['lambdaMemoryMb']} MB / 1024)" in report


def test_the_cost_pages_state_the_prices_of_the_report_and_of_cdk_json():
    """One home per price: AWS's list prices in tools/review.py (PRICE), the model's in cdk.json (modelPrices); the
    pages that state them must say the same figures."""
    english, portuguese = (" ".join((ROOT / page).read_text(encoding="utf-8").split()) for page in COST_PAGES)
    arm64_only = {"lambda_gb_second_x86_64"}  # the functions are arm64: the page prices what the templates run
    for name, price in review.PRICE.items():
        shown = f"${int(price)}" if price == int(price) else f"${price}"
        assert name in arm64_only or shown in english, f"docs/cost.md does not state {name} = {shown}"
    model_prices = CDK_CONTEXT["modelPrices"]
    (foundation_model,) = {model.split(".", 1)[1] for model in CDK_CONTEXT["models"].values()} & set(model_prices)
    for field, per_million in (
        ("inputPer1kTokens", " per million input"),
        ("outputPer1kTokens", " per million output"),
    ):
        per_1k = model_prices[foundation_model][field]
        assert f"${per_1k:g}" in english and f"US$ {per_1k:g}".replace(".", ",") in portuguese
        assert f"${per_1k * 1000:.2f}{per_million} tokens" in english
        assert f"US$ {per_1k * 1000:.2f}".replace(".", ",") in portuguese


def test_the_context_section_lists_every_key_and_marks_overrides(inputs):
    rows = {unquote(row[0]): row for row in table_after(review.report(inputs), "## 7. Context in effect")}
    assert set(rows) == set(CONTEXT_KEYS)
    assert all(row[2] in ("cdk.json", "default (unset)") for row in rows.values())

    overridden = review.section_context(
        review.Inputs(**{**vars(inputs), "context": {**inputs.context, **parse_overrides(["lambdaMemoryMb=512"])}})
    )
    (row,) = [line for line in overridden if line.startswith("| `lambdaMemoryMb` |")]
    assert row == "| `lambdaMemoryMb` | `512` | **override** (cdk.json: `256`) |"


def test_parse_overrides_takes_cdk_style_pairs():
    assert parse_overrides(["a=1", 'b={"x": 1}', "c="]) == {"a": "1", "b": '{"x": 1}', "c": ""}
    with pytest.raises(ValueError, match="key=value"):
        parse_overrides(["novalue"])


def test_make_review_synthesizes_into_its_own_folder_and_says_where_the_report_is(
    monkeypatch, tmp_path, capsys, assembly, cfn_lint_run, checkov_run
):
    """`make review REVIEW_ARGS=...` must leave the templates `make synth` wrote to cdk.out/ as they are."""
    monkeypatch.chdir(ROOT)
    synthesized: list[tuple[dict[str, Any], Path]] = []

    def synthesize(context: dict[str, Any], outdir: Path) -> Any:
        synthesized.append((context, outdir))
        return load(Path(assembly.directory))  # the session's synthesis stands in for a second one

    monkeypatch.setattr(review, "synthesize", synthesize)
    monkeypatch.setattr(review, "run_cfn_lint", lambda files: cfn_lint_run)
    monkeypatch.setattr(review, "run_checkov", lambda files: checkov_run)
    output = tmp_path / "review.md"

    assert review.main(["-c", "enableWaf=true", "--output", str(output)]) == 0

    ((context, outdir),) = synthesized
    assert context["enableWaf"] == "true"
    assert outdir == review.OUTDIR == ROOT / "cdk.out" / "review"  # its own assembly, inside cdk.out/, not it
    assert output.read_text(encoding="utf-8").startswith("# Review of the")
    assert capsys.readouterr().out.endswith(f"bytes written to {output} (templates: cdk.out/review/)\n")


def test_a_bad_review_context_is_one_line(capsys, tmp_path):
    assert review.main(["-c", "lambdaMemoryMb=abc", "--outdir", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        "review: context key 'lambdaMemoryMb' must be an integer from 128 to 10240, got 'abc'\n"
    )
    assert review.main(["-c", "novalue"]) == 1
    assert capsys.readouterr().err == "review: expected key=value, got 'novalue'\n"
