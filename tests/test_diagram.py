"""docs/architecture.svg is drawn from the synthesized templates (tools/diagram.py), committed, and current."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ElementTree

from stacks.catalog import load_routes
from tests.support import API_STACK, MODEL_ID, ROOT
from tools import diagram

COMMITTED = ROOT / "docs" / "architecture.svg"


def texts(svg: str) -> list[str]:
    root = ElementTree.fromstring(svg)
    return [element.text or "" for element in root.iter("{http://www.w3.org/2000/svg}text")]


def test_the_committed_diagram_is_what_the_templates_draw(templates):
    assert COMMITTED.read_text(encoding="utf-8") == diagram.render_svg(templates), "docs/architecture.svg is stale: run make diagram"


def test_the_diagram_names_the_key_parts(templates):
    svg = diagram.render_svg(templates)
    words = "\n".join(texts(svg))

    for part in (
        "Client",
        "SigV4-signed HTTPS",
        "API Gateway REST API",
        "IAM auth (SigV4) on all 12 methods",
        "request models + validator on 11 of 11 POST routes",
        "throttling 10 req/s, burst 20 (stage v1)",
        "Lambda GenAiFunction",
        "Amazon Bedrock",
        "Bedrock Guardrail (pinned version)",
        MODEL_ID,
        "CloudWatch Logs",
        "GenAiFunction logs · 14 days",
        "API access logs (stage v1) · 14 days",
        "stack GenAiReferenceApi",
        "stack GenAiReferenceMonitoring",
        "CloudWatch dashboard",
        "5 CloudWatch alarms",
        "SNS alarm topic",
        "KMS-encrypted · TLS only",
    ):
        assert part in words, part
    for route in load_routes():  # every family and task of the catalog
        assert f"/{route.family}/… (" in words
        assert re.search(rf"(^|· ){re.escape(route.task)}( ·|$)", words, re.MULTILINE), route.task
    assert "GET /use-cases" in words


def test_the_diagram_is_deterministic_and_grows_with_the_templates(templates):
    assert diagram.render_svg(templates) == diagram.render_svg(copy.deepcopy(templates))

    # A new function behind a new route (as a streaming chat would be) gets its own box and arrows, no redesign.
    grown = copy.deepcopy(templates)
    resources = grown[API_STACK]["Resources"]
    (function_id,) = [key for key, r in resources.items() if r["Type"] == "AWS::Lambda::Function"]
    resources["ChatStreamFunction0A1B2C3D"] = copy.deepcopy(resources[function_id])
    (chat_id,) = [key for key, r in resources.items() if r["Type"] == "AWS::ApiGateway::Resource" and r["Properties"]["PathPart"] == "chat"]
    stream = copy.deepcopy(resources[chat_id])
    stream["Properties"]["PathPart"] = "chat-stream"
    resources["RestApiChatStream0A1B2C3D"] = stream
    (method_id,) = [key for key, r in resources.items() if r["Type"] == "AWS::ApiGateway::Method" and r["Properties"]["ResourceId"] == {"Ref": chat_id}]
    method = copy.deepcopy(resources[method_id])
    method["Properties"]["ResourceId"] = {"Ref": "RestApiChatStream0A1B2C3D"}
    method["Properties"]["Integration"]["ResponseTransferMode"] = "STREAM"
    uri = ["arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/", {"Fn::GetAtt": ["ChatStreamFunction0A1B2C3D", "Arn"]}, "/response-streaming-invocations"]
    method["Properties"]["Integration"]["Uri"] = {"Fn::Join": ["", uri]}
    resources["RestApiChatStreamPOST0A1B2C3D"] = method

    words = texts(diagram.render_svg(grown))
    assert "Lambda ChatStreamFunction" in words
    assert "serves 1 route (streaming)" in words
    assert "serves 12 routes" in words
    assert "IAM auth (SigV4) on all 13 methods" in words
    assert "POST /customer-experience/… (4)" in words


def test_the_check_mode_reports_a_stale_diagram(tmp_path, monkeypatch, capsys, templates):
    stale = tmp_path / "architecture.svg"
    stale.write_text("<svg/>\n", encoding="utf-8")
    monkeypatch.setattr(diagram, "OUTPUT", stale)
    monkeypatch.setattr(diagram, "current_templates", lambda: templates)

    assert diagram.main(["--check"]) == 1
    assert "stale: run make diagram" in capsys.readouterr().out
    assert stale.read_text(encoding="utf-8") == "<svg/>\n"  # --check never writes
