"""docs/architecture.svg is drawn from the synthesized templates (tools/diagram.py), committed, and current."""

from __future__ import annotations

import copy
import json
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
    assert COMMITTED.read_text(encoding="utf-8") == diagram.render_svg(templates), (
        "docs/architecture.svg is stale: run make diagram"
    )


def test_the_diagram_names_the_key_parts(templates):
    svg = diagram.render_svg(templates)
    words = "\n".join(texts(svg))

    for part in (
        "Client",
        "SigV4-signed HTTPS",
        "API Gateway REST API",
        "IAM auth (SigV4) on all 13 methods",
        "request models + validator on 12 of 12 POST routes",
        "throttling 10 req/s, burst 20 (stage v1)",
        "Lambda GenAiFunction",
        "Lambda GenAiStreamFunction",
        "serves 1 route (streaming)",
        "ConverseStream on 1 model(s), 3 families",
        "POST /customer-experience/chat/stream",
        "Amazon Bedrock",
        "Bedrock Guardrails (pinned versions)",
        MODEL_ID,
        "CloudWatch Logs",
        "GenAiFunction logs · 14 days",
        "API access logs (stage v1) · 14 days",
        "stack GenAiReferenceApi",
        "stack GenAiReferenceMonitoring",
        "CloudWatch dashboard",
        "6 CloudWatch alarms",
        "SNS alarm topic",
        "KMS-encrypted · TLS only",
    ):
        assert part in words, part
    for route in load_routes():  # every family and task of the catalog
        assert f"/{route.family}/… (" in words
        assert re.search(rf"(^|· ){re.escape(route.task)}( ·|$)", words, re.MULTILINE), route.task
    assert "GET /use-cases" in words


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
    assert "POST /customer-experience/chat/stream" not in fewer
    assert "serves 12 routes" in full and "serves 12 routes" in fewer


def test_the_check_mode_reports_a_stale_diagram(tmp_path, monkeypatch, capsys, templates):
    stale = tmp_path / "architecture.svg"
    stale.write_text("<svg/>\n", encoding="utf-8")
    monkeypatch.setattr(diagram, "OUTPUT", stale)
    monkeypatch.setattr(diagram, "current_templates", lambda: templates)

    assert diagram.main(["--check"]) == 1
    assert "stale: run make diagram" in capsys.readouterr().out
    assert stale.read_text(encoding="utf-8") == "<svg/>\n"  # --check never writes
