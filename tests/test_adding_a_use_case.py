"""Adding a use case is data: a use-case file, its example request, then `make generate`. Here the recipe is played
on a copy of the catalog grown by two use cases (a text task and a structured task of the catalog, copied under new
names), and everything derived from the catalog must grow with it: the stack's routes and methods (cdk-nag still
clean), the OpenAPI document, the diagram, the docs' generated tables, the review's route table and the smoke test's
requests. The rest of the
suite derives its counts and expectations from the catalog the same way, so the recipe needs no test edited; this
keeps the derived artefacts honest without running the whole suite twice.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import app
from genai_core.catalog import CATALOG_DIR, load_catalog
from stacks.config import cdk_json_context
from tests.support import ROOT
from tests.test_infrastructure import CONVERSATION_METHODS, KEEPS_CONVERSATIONS
from tools import diagram, doc_tables, openapi, review, smoke
from tools import templates as t
from tools.assembly import load

EXAMPLES = ROOT / "examples"
SUFFIX = "-again"


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, set[str]]:
    """A copy of the catalog and of examples/ with two more use cases; returns (catalog, examples, new ids)."""
    base = tmp_path_factory.mktemp("grown")
    use_cases, examples = base / "use_cases", base / "examples"
    shutil.copytree(CATALOG_DIR, use_cases)
    shutil.copytree(EXAMPLES, examples)
    catalog = sorted(load_catalog(), key=lambda use_case: use_case.id)
    text = next(use_case for use_case in catalog if not use_case.structured)
    structured = next(use_case for use_case in catalog if use_case.structured)
    added = set()
    for use_case in (text, structured):
        data = json.loads((CATALOG_DIR / use_case.family / f"{use_case.task}.json").read_text(encoding="utf-8"))
        task = f"{use_case.task}{SUFFIX}"
        (use_cases / use_case.family / f"{task}.json").write_text(json.dumps({**data, "task": task}), encoding="utf-8")
        shutil.copy(EXAMPLES / use_case.family / f"{use_case.task}.json", examples / use_case.family / f"{task}.json")
        added.add(f"{use_case.family}/{task}")
    return use_cases, examples, added


@pytest.fixture(scope="module")
def grown_templates(grown, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The app synthesized (cdk-nag included) with the grown catalog's routes."""
    use_cases, _, _ = grown
    original = app.load_catalog
    app.load_catalog = lambda: load_catalog(use_cases)  # what build_app reads the catalog with
    try:
        outdir = tmp_path_factory.mktemp("cdk.out.grown")
        app.build_app(context=cdk_json_context(), outdir=str(outdir)).synth()
    finally:
        app.load_catalog = original
    return load(outdir).templates


def expected_methods(routes: list[Any]) -> set[tuple[str, str]]:
    return (
        {("POST", route.path) for route in routes}
        | {("POST", route.stream_path) for route in routes if route.streaming}
        | {("GET", openapi.DISCOVERY_PATH), ("POST", openapi.UPLOADS_PATH)}
        | (CONVERSATION_METHODS if KEEPS_CONVERSATIONS and any(route.memory for route in routes) else set())
    )


def test_the_catalog_and_the_routes_grow_by_the_new_files(grown):
    use_cases, _, added = grown

    assert {use_case.id for use_case in load_catalog(use_cases)} == {u.id for u in load_catalog()} | added
    assert {route.path for route in list(load_catalog(use_cases))} == {route.path for route in load_catalog()} | {
        f"/{use_case_id}" for use_case_id in added
    }


def test_the_stack_serves_every_new_route_authorized_validated_and_with_its_model(grown, grown_templates):
    use_cases, _, added = grown
    routes = list(load_catalog(use_cases))
    served = {(route.method, route.path): route for route in t.api_routes(grown_templates)}

    assert set(served) == expected_methods(routes)
    for use_case_id in added:
        route = served[("POST", f"/{use_case_id}")]
        assert (route.authorization, route.integration, route.validator) == (
            "AWS_IAM",
            "AWS_PROXY",
            "body + parameters",
        )
        assert route.request_model is not None


def test_the_openapi_document_has_the_new_operations_with_their_examples(grown, monkeypatch):
    from openapi_spec_validator import validate

    use_cases, examples, added = grown
    monkeypatch.setattr(openapi, "EXAMPLES", examples)
    document = openapi.generate(load_catalog(use_cases), cdk_json_context()["stageName"])

    validate(document)
    for use_case_id in added:
        body = document["paths"][f"/{use_case_id}"]["post"]["requestBody"]["content"]["application/json"]
        assert body["example"] == json.loads((examples / f"{use_case_id}.json").read_text(encoding="utf-8"))


def test_the_diagram_and_the_review_count_the_new_routes(grown, grown_templates):
    use_cases, _, added = grown
    methods = len(expected_methods(list(load_catalog(use_cases))))

    words = diagram.render_svg(grown_templates)
    assert f"IAM auth (SigV4) on all {methods} methods" in words
    assert all(use_case_id.split("/")[1] in words for use_case_id in added)

    text = review.report(review.Inputs(templates=grown_templates, context=cdk_json_context()))
    assert f"authorization: AWS_IAM on {methods}." in text
    assert all(f"`/{use_case_id}`" in text for use_case_id in added)


def test_the_smoke_test_sends_the_new_examples(grown):
    use_cases, examples, added = grown

    found = {example.route: example for example in smoke.find_examples(examples, list(load_catalog(use_cases)))}

    assert {f"/{use_case_id}" for use_case_id in added} <= set(found)
    assert all(found[f"/{use_case_id}"].source.endswith(f"{use_case_id}.json") for use_case_id in added)


def test_the_docs_tables_list_the_new_tasks(grown):
    use_cases, _, added = grown
    catalog = load_catalog(use_cases)

    for table in doc_tables.TABLES:
        assert all(f"`POST /{use_case_id}`" in table.render(catalog) for use_case_id in added), table.path
