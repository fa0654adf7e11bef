"""docs/architecture.svg is drawn from the synthesized templates (tools/diagram.py), committed, and current."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ElementTree

from genai_core.catalog import load_catalog
from tests.support import API_STACK, CDK_CONTEXT, MODEL_ID, MONITORING_STACK, ROOT
from tools import diagram

COMMITTED = ROOT / "docs" / "architecture.svg"


def texts(svg: str) -> list[str]:
    root = ElementTree.fromstring(svg)
    return [element.text or "" for element in root.iter("{http://www.w3.org/2000/svg}text")]


def test_the_committed_diagram_is_what_the_templates_draw(templates):
    assert COMMITTED.read_text(encoding="utf-8") == diagram.render_svg(templates), (
        "docs/architecture.svg is stale: run make diagram"
    )


def counts(templates) -> dict[str, int]:
    """What the drawing counts, counted from the catalog and the templates (not restated)."""
    routes = list(load_catalog())
    streams = [route for route in routes if route.streaming]
    alarms = [r for t in templates.values() for r in t["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    conversations = [
        r for t in templates.values() for r in t["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"
    ]
    conversation_methods = 3 if conversations else 0  # GET /conversations, GET and DELETE /conversations/{id}
    return {
        "posts": len(routes) + len(streams) + 1,  # one POST per task, one per streaming task's /stream, POST /uploads
        "methods": len(routes) + len(streams) + 2 + conversation_methods,  # and GET /use-cases, POST /uploads
        # the buffered function answers the tasks, the discovery route, uploads and the conversations'
        "served": len(routes) + 2 + conversation_methods,
        "streams": len(streams),
        "alarms": len(alarms),
    }


def test_the_diagram_names_the_key_parts(templates):
    svg = diagram.render_svg(templates)
    words = "\n".join(texts(svg))
    n = counts(templates)
    models = CDK_CONTEXT["models"]
    stage, retention = CDK_CONTEXT["stageName"], CDK_CONTEXT["logRetentionDays"]

    for part in (
        "Client",
        "SigV4-signed HTTPS",
        "API Gateway REST API",
        f"IAM auth (SigV4) on all {n['methods']} methods",
        f"request models + validator on {n['posts']} of {n['posts']} POST routes",
        f"throttling {CDK_CONTEXT['throttlingRateLimit']} req/s, burst {CDK_CONTEXT['throttlingBurstLimit']} (stage {stage})",
        "Lambda GenAiFunction",
        f"serves {n['served']} routes",
        f"Converse on {len(set(models.values()))} model(s), {len(models)} families",
        "Amazon Bedrock",
        "Bedrock Guardrails (pinned versions)",
        MODEL_ID,
        "CloudWatch Logs",
        f"GenAiFunction logs · {retention} days",
        f"API access logs (stage {stage}) · {retention} days",
        f"stack {API_STACK}",
        f"stack {MONITORING_STACK}",
        "CloudWatch dashboard",
        f"{n['alarms']} CloudWatch alarms",
        "SNS alarm topic",
        "KMS-encrypted · TLS only",
    ):
        assert part in words, part
    if n["streams"]:
        assert "Lambda GenAiStreamFunction" in words
        assert f"serves {n['streams']} route{'s' if n['streams'] != 1 else ''} (streaming)" in words
        assert f"ConverseStream on {len(set(models.values()))} model(s), {len(models)} families" in words
        for route in load_catalog():
            assert (f"POST {route.stream_path}" in words) == route.streaming, route.stream_path
    for route in load_catalog():  # every family and task of the catalog
        assert f"/{route.family}/… (" in words
        assert re.search(rf"(^|· ){re.escape(route.task)}( ·|$)", words, re.MULTILINE), route.task
    assert "GET /use-cases" in words and "POST /uploads" in words
    # The uploads bucket, as the templates make it: private, SSE-S3, TLS and SigV4 only, its expiry, its one grant.
    assert "S3 uploads bucket" in words and "SSE-S3 · private" in words and "TLS only · SigV4-signed PUTs only" in words
    days = CDK_CONTEXT["uploadsExpireDays"]
    assert f"objects expire after {days} day{'s' if days != 1 else ''}" in words
    assert "GenAiFunction: GetObject, PutObject on /uploads/*" in words
    assert not any(text.startswith("GenAiStreamFunction:") for text in texts(svg))  # no streaming task takes files
    if CDK_CONTEXT["conversations"]["enabled"]:
        assert "DynamoDB ConversationsTable" in words
        assert f"point-in-time recovery · {CDK_CONTEXT['conversations']['recoveryPeriodDays']} days" in words
        assert "DeleteItem · GetItem · PutItem · Query" in words  # exactly what the functions may do on it
        assert "GET /conversations" in words and "DELETE/GET /conversations/… (2)" in words


def test_the_diagram_draws_the_knowledge_base_that_the_function_searches(templates):
    words = "\n".join(texts(diagram.render_svg(templates)))
    knowledge_base = CDK_CONTEXT["knowledgeBase"]
    chunking = knowledge_base["chunking"]

    assert "Bedrock knowledge base (S3 Vectors)" in words
    assert f"index: {knowledge_base['dimension']} dims · cosine · float32" in words
    assert knowledge_base["embeddingModel"] in words
    assert f"chunks: fixed-size, {chunking['maxTokens']} tokens, {chunking['overlapPercentage']}% overlap" in words
    assert "Retrieve" in words and "embeds" in words

    # Without one (-c knowledgeBase=false), there is no box and no arrow to it.
    from tests.conftest import synthesize
    from tests.support import cdk_context

    without = "\n".join(texts(diagram.render_svg(synthesize(cdk_context(knowledgeBase=False)))))
    assert "knowledge base" not in without and "Retrieve" not in without


def test_the_diagram_is_deterministic_and_follows_the_templates(templates):
    assert diagram.render_svg(templates) == diagram.render_svg(copy.deepcopy(templates))

    # The streaming function and its route, taken out, take their box out with them: the drawing follows the data.
    shrunk = copy.deepcopy(templates)
    resources = shrunk[API_STACK]["Resources"]
    (stream_id,) = [
        key
        for key, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"] == "run.sh"
    ]
    for key in [key for key, r in resources.items() if stream_id in json.dumps(r) or key == stream_id]:
        del resources[key]

    full, fewer = texts(diagram.render_svg(templates)), texts(diagram.render_svg(shrunk))
    assert "Lambda GenAiStreamFunction" in full and "Lambda GenAiStreamFunction" not in fewer
    assert not [text for text in fewer if text.endswith("/stream")]
    served = f"serves {counts(templates)['served']} routes"
    assert served in full and served in fewer


def test_the_check_mode_reports_a_stale_diagram(tmp_path, monkeypatch, capsys, templates):
    stale = tmp_path / "architecture.svg"
    stale.write_text("<svg/>\n", encoding="utf-8")
    monkeypatch.setattr(diagram, "OUTPUT", stale)
    monkeypatch.setattr(diagram, "current_templates", lambda: templates)

    assert diagram.main(["--check"]) == 1
    assert "stale: run make diagram" in capsys.readouterr().out
    assert stale.read_text(encoding="utf-8") == "<svg/>\n"  # --check never writes
