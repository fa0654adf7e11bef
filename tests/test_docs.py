"""The documentation agrees with the code: the tables that restate the catalog, the error codes, the configuration
keys, the limits the function and the servers enforce, the default model and its regions, and every link between
the pages. (The Bedrock error table of docs/api.md
is checked, row by row, by tests/test_bedrock.py.)

Each check derives its expectation from the code or from cdk.json (the catalog, the error taxonomy, the fault map,
``stacks/config.py``), so a change on either side that leaves a page behind fails here, with the page named.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from genai_core import errors, retrieval
from genai_core.bedrock import FAULTS
from genai_core.catalog import CATALOG_DIR, FAMILIES, load_catalog
from genai_core.conversations import FAULTS as STORE_FAULTS
from genai_core.uploads import STORAGE_FAULTS
from stacks import config as config_module
from stacks.config import CONTEXT_KEYS
from tests.support import CDK_CONTEXT, ROOT
from tools import doc_tables

README = ROOT / "README.md"
README_PT = ROOT / "README.pt-BR.md"
API_PAGE = ROOT / "docs" / "api.md"
CONFIG_PAGE = ROOT / "docs" / "configuration.md"
TOPIC_PAGES = sorted(path for path in (ROOT / "docs").glob("*.md") if path.name != "README.md")
PAGES = [README, README_PT, ROOT / "CONTRIBUTING.md", ROOT / "SECURITY.md", *(ROOT / "docs").rglob("*.md")]
CODE = re.compile(r"^[a-z]+(?:_[a-z]+)+$|^[a-z]+$")
FENCE = re.compile(r"^```.*?^```", flags=re.MULTILINE | re.DOTALL)


def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def prose(text: str) -> str:
    """The text without its fenced code blocks."""
    return FENCE.sub("", text)


def table_rows(text: str) -> list[list[str]]:
    """Every row of every Markdown table (header and separator rows excluded), as stripped cells."""
    rows, previous = [], ""
    for line in prose(text).splitlines():
        if line.startswith("|") and not re.fullmatch(r"\|[-|: ]+\|", line) and previous.startswith("|"):
            rows.append([cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
        previous = line
    return rows


def status_and_code(row: list[str]) -> tuple[int, str] | None:
    """The (status, code) a row of an error table names: a cell with a 3-digit status, one with a `snake_case` code."""
    statuses = [int(cell) for cell in row if re.fullmatch(r"\d{3}", cell)]
    codes = [cell.strip("`") for cell in row if re.fullmatch(r"`[a-z_]+`", cell) and CODE.match(cell.strip("`"))]
    return (statuses[0], codes[-1]) if len(statuses) == 1 and codes else None


def function_codes() -> dict[str, set[int]]:
    """Every error code the function can answer, with its statuses: the concrete error classes, the Bedrock,
    uploads-store and conversation-store fault maps, and the catch-all ``ApiError`` (``internal_error``)."""
    classes, stack = [], [errors.ApiError]
    while stack:
        cls = stack.pop()
        subclasses = cls.__subclasses__()
        stack += subclasses
        if not subclasses or cls is errors.ApiError:
            classes.append(cls)
    codes: dict[str, set[int]] = {}
    for cls in classes:
        codes.setdefault(cls.code, set()).add(cls.status)
    # Converse's, the uploads store's (S3), the knowledge base's, the conversation store's
    for status, code, _ in (*FAULTS, *STORAGE_FAULTS, *retrieval.FAULTS, *STORE_FAULTS):
        codes.setdefault(code, set()).add(status)
    return codes


def slugs(text: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown page."""
    seen: dict[str, int] = {}
    anchors = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose(text), flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


# --- tables generated from the catalog -------------------------------------------------------------------------


def test_the_generated_tables_are_current():
    assert doc_tables.stale() == [], "a generated table is stale: run .venv/bin/python -m tools.doc_tables"


def test_a_new_use_case_reaches_every_generated_table(tmp_path):
    catalog_dir = tmp_path / "use_cases"
    shutil.copytree(CATALOG_DIR, catalog_dir)
    source = json.loads(text_of(catalog_dir / "productivity" / "summarize.json"))
    added = {**source, "task": "headline", "summary": "Write a one-line headline for a text."}
    (catalog_dir / "productivity" / "headline.json").write_text(json.dumps(added), encoding="utf-8")
    catalog = load_catalog(catalog_dir)

    assert doc_tables.stale(catalog) == [table.path for table in doc_tables.TABLES]
    for table in doc_tables.TABLES:
        assert "`POST /productivity/headline`" in table.render(catalog)
    # Not translated yet: the Portuguese table shows the English summary, marked as such.
    assert "Write a one-line headline for a text. (em inglês)" in doc_tables.tasks_pt_br(catalog)


def test_the_check_mode_reports_a_stale_table_and_writes_nothing(tmp_path, monkeypatch, capsys):
    table = doc_tables.TABLES[0]
    page = tmp_path / "README.md"
    page.write_text(f"intro\n{table.begin}\n| an old table |\n{table.end}\nend\n", encoding="utf-8")
    monkeypatch.setattr(doc_tables, "TABLES", (doc_tables.Table(page, table.name, table.render),))
    monkeypatch.setattr(doc_tables, "ROOT", tmp_path)

    assert doc_tables.main(["--check"]) == 1
    assert "stale" in capsys.readouterr().out
    assert "| an old table |" in text_of(page)

    assert doc_tables.main([]) == 0
    assert doc_tables.main(["--check"]) == 0
    assert text_of(page).startswith("intro\n") and text_of(page).endswith("end\n")


def test_a_page_without_its_markers_is_an_error(tmp_path):
    page = tmp_path / "README.md"
    page.write_text("no table here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no generated 'tasks' table"):
        doc_tables.updated(text_of(page), doc_tables.Table(page, "tasks", doc_tables.tasks_en), load_catalog())


def test_the_portuguese_names_refer_to_real_tasks_and_families():
    assert set(doc_tables.PT_BR_SUMMARIES) <= {use_case.id for use_case in load_catalog()}
    assert set(doc_tables.PT_BR_FAMILIES) == set(FAMILIES)


# --- error codes ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [API_PAGE, README_PT], ids=lambda path: path.name)
def test_every_error_code_is_documented_with_its_status(page):
    known = function_codes()
    documented: dict[str, set[int]] = {}
    for row in table_rows(text_of(page)):
        pair = status_and_code(row)
        if pair is None:
            continue
        status, code = pair
        assert code in known or "_" not in code, f"{page.name} documents {code!r}, which the function never answers"
        if code in known:
            documented.setdefault(code, set()).add(status)
    for code, statuses in known.items():
        assert code in documented, f"{page.name} has no error-table row for {code!r}"
        assert documented[code] <= statuses, f"{page.name} gives {code!r} the status {documented[code]}, not {statuses}"


# --- configuration ----------------------------------------------------------------------------------------------


def configuration_rows() -> dict[str, list[str]]:
    section = text_of(CONFIG_PAGE).split("## Every key", 1)[1].split("\n## ", 1)[0]
    return {row[0].strip("`"): row for row in table_rows(section)}


def test_the_configuration_table_lists_every_context_key_once():
    section = text_of(CONFIG_PAGE).split("## Every key", 1)[1].split("\n## ", 1)[0]
    keys = [row[0].strip("`") for row in table_rows(section)]
    assert sorted(keys) == sorted(CONTEXT_KEYS)


@pytest.mark.parametrize("key", CONTEXT_KEYS)
def test_the_configuration_table_shows_the_default_from_cdk_json(key):
    default = configuration_rows()[key][1]
    if key not in CDK_CONTEXT:
        assert default == "unset"
    elif isinstance(CDK_CONTEXT[key], dict):
        assert default == "in `cdk.json`"
    else:
        assert default == f"`{json.dumps(CDK_CONTEXT[key])}`", f"docs/configuration.md: the default of {key}"


def allowed_values() -> dict[str, str]:
    """What docs/configuration.md must say a key allows, read from stacks/config.py's calls such as
    ``ctx.integer("lambdaMemoryMb", 128, 10240)`` (keys read another way are not listed)."""

    def value(node: ast.expr) -> Any:
        return getattr(config_module, node.id) if isinstance(node, ast.Name) else ast.literal_eval(node)

    expected = {}
    for node in ast.walk(ast.parse(inspect.getsource(config_module))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
            continue
        if not (isinstance(node.args[0], ast.Constant) and node.args[0].value in CONTEXT_KEYS):
            continue
        key, args = str(node.args[0].value), [value(arg) for arg in node.args[1:]]
        method = node.func.attr
        if method == "integer":
            expected[key] = f"`{args[0]}`–`{args[1]}`"
        elif method in ("one_of", "choice"):
            expected[key] = ", ".join(f"`{option}`" for option in args[0])
        elif method == "boolean":
            expected[key] = "`true`, `false`"
        elif method == "number":
            expected[key] = f"greater than `{args[0]:g}`, at most `{args[1]:g}`"
    return expected


def test_the_configuration_table_says_what_each_key_allows():
    expected = allowed_values()
    assert len(expected) > 20  # the loader's calls were found: this test is not vacuous
    rows = configuration_rows()
    for key, allowed in expected.items():
        assert rows[key][2] == allowed, f"docs/configuration.md: what {key} allows"


# --- facts the pages restate from cdk.json ----------------------------------------------------------------------


def test_the_readmes_name_the_default_models_and_their_regions():
    us_regions = ", ".join(CDK_CONTEXT["inferenceProfileRegions"]["us"])
    for page in (README, README_PT):
        for model_id in set(CDK_CONTEXT["models"].values()):
            assert model_id in text_of(page), f"{page.name} does not name the default model {model_id}"
        assert us_regions in text_of(page), f"{page.name} does not list the us. profile's regions"


@pytest.mark.parametrize("page", ["docs/regions.md", "docs/troubleshooting.md", "README.pt-BR.md"])
def test_the_quoted_region_rule_message_matches_the_default_model(page):
    model_id = CDK_CONTEXT["models"]["customer-experience"]
    regions = ", ".join(CDK_CONTEXT["inferenceProfileRegions"][model_id.split(".")[0]])
    text = text_of(ROOT / page)
    assert f"The model {model_id} is a cross-region inference profile" in text
    assert f"{regions}. Deploy to one of them, or configure another model (context key 'models')." in text


def test_every_make_target_the_pages_name_exists():
    targets = set(re.findall(r"^([a-z][a-z-]*):", text_of(ROOT / "Makefile"), flags=re.MULTILINE))
    for page in PAGES:
        text = text_of(page)
        named = set(re.findall(r"`make ([a-z][a-z-]*)", text))
        for block in FENCE.findall(text):
            named |= set(re.findall(r"^\s*(?:[A-Z_]+=\S+\s+)*make ([a-z][a-z-]*)", block, flags=re.MULTILINE))
        assert named <= targets, f"{page.relative_to(ROOT)} names make targets that do not exist: {named - targets}"


def test_every_context_key_the_pages_set_exists():
    for page in PAGES:
        named = set(re.findall(r"-c ([A-Za-z0-9]+)=", text_of(page))) - {"key"}  # "-c key=value" shows the form
        assert named <= set(CONTEXT_KEYS), (
            f"{page.relative_to(ROOT)} sets unknown context keys: {named - set(CONTEXT_KEYS)}"
        )


# --- the README and the links between the pages -----------------------------------------------------------------


def test_the_readme_is_short_and_offers_the_portuguese_guide_first():
    lines = text_of(README).splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines: move detail to a page under docs/"
    assert lines[0] == "English | [Português (pt-BR)](README.pt-BR.md)"
    assert text_of(README_PT).splitlines()[0] == "[English](README.md) | Português (pt-BR)"


def test_the_readmes_keep_the_two_set_up_commands():
    for page in (README, README_PT):
        commands = [line.split("#")[0].strip() for line in text_of(page).splitlines() if line.startswith("make ")]
        assert commands[:2] == ["make synth", "make test"], page.name


@pytest.mark.parametrize("index", [README, ROOT / "docs" / "README.md"], ids=["README.md", "docs/README.md"])
def test_every_topic_page_is_linked_from_the_indexes(index):
    text = text_of(index)
    base = "docs/" if index == README else ""
    for page in TOPIC_PAGES:
        assert f"]({base}{page.name})" in text, f"{index.relative_to(ROOT)} does not link docs/{page.name}"


def test_there_is_one_architecture_picture():
    for page in PAGES:
        text = text_of(page)
        assert "```mermaid" not in text, f"{page.relative_to(ROOT)} draws a second picture"
        for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
            assert target.endswith("architecture.svg"), f"{page.relative_to(ROOT)} shows another picture: {target}"


@pytest.mark.parametrize("page", PAGES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    text = prose(text_of(page))
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code is not a link
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r"^\[[^\]]+\]: (\S+)$", text, flags=re.MULTILINE)
    for target in targets:
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.relative_to(ROOT)} links to a missing {target}"
        if anchor and resolved.suffix == ".md":
            assert anchor in slugs(text_of(resolved)), f"{page.relative_to(ROOT)} links to a missing anchor {target}"


# --- the Limits tables state the limits the code enforces -------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """A row of the Limits tables (docs/security.md; one in README.pt-BR.md, in the same order)."""

    label: str  # the English table's first cell
    numbers: tuple[float, ...]  # every number in the value cell, in order
    answer: tuple[int, str] | None  # the answer cell's status and code (None: no answer)
    keywords: frozenset[str] | None = None  # the value cell's code spans, where they are the limit


def answer_of(error: errors.ApiError | type[errors.ApiError]) -> tuple[int, str]:
    return error.status, error.code


def limits() -> list[Limit]:
    """Each row's figures, from the constant the code enforces (the servers' from their handler classes)."""
    import http.client

    import http_io
    import media_type
    import stream_server
    from genai_core import file_contract, files, jsonbody, prompts, schema
    from tools import local_api

    stream, local = stream_server.StreamRequestHandler, local_api.RequestHandler
    invalid = answer_of(errors.ValidationFailed)
    mib = 1024 * 1024
    assert stream.read_timeout == local.read_timeout and stream.idle_timeout is None  # "both servers"
    return [
        Limit(
            "request body", (jsonbody.MAX_BODY_BYTES, jsonbody.MAX_BODY_BYTES / 1024), answer_of(errors.PayloadTooLarge)
        ),
        Limit(
            "request body, of a task that takes files",
            (file_contract.MAX_BODY_BYTES_WITH_FILES, file_contract.MAX_BODY_BYTES_WITH_FILES / mib),
            answer_of(errors.PayloadTooLarge),
        ),
        Limit("files sent inline", (file_contract.MAX_INLINE_BYTES,), answer_of(errors.PayloadTooLarge)),
        Limit("documents", (file_contract.DOCUMENT.max_count,), invalid),
        Limit("a document's size", (file_contract.DOCUMENT.max_bytes,), answer_of(errors.FileTooLarge)),
        Limit("images", (file_contract.IMAGE.max_count,), invalid),
        Limit("an image's size", (file_contract.IMAGE.max_bytes,), answer_of(errors.FileTooLarge)),
        Limit("files sent to the model as bytes", (file_contract.MAX_MODEL_BYTES,), answer_of(errors.FileTooLarge)),
        Limit("an Office file's zip directory", (files.MAX_ZIP_DIRECTORY_BYTES,), answer_of(errors.FileFormatMismatch)),
        Limit("JSON nesting", (jsonbody.MAX_JSON_DEPTH,), invalid),
        Limit("JSON containers", (jsonbody.MAX_JSON_CONTAINERS,), invalid),
        Limit("numbers", (float(f"{sys.float_info.max:.1e}"), sys.get_int_max_str_digits()), invalid),
        Limit("rendered prompt", (prompts.MAX_PROMPT_CHARS,), answer_of(errors.PromptTooLarge)),
        Limit("caller schema depth", (schema.MAX_SCHEMA_DEPTH,), invalid),
        Limit("caller schema size", (schema.MAX_SCHEMA_NODES,), invalid),
        Limit("caller schema `enum`", (schema.MAX_ENUM_VALUES,), invalid),
        Limit("caller schema keywords", (), invalid, schema.ASSERTIONS),
        Limit("caller schema annotations", (), invalid, schema.ANNOTATIONS),
        Limit(
            "strings and lists", (), invalid, frozenset({"maxLength", "maxItems"})
        ),  # test_catalog: every one has them
        Limit("`Content-Type` of a POST", (), answer_of(errors.UnsupportedMediaType), frozenset({media_type.JSON})),
        Limit(
            "body, at the streaming function's server",
            (stream.limit.max_bytes, stream.limit.max_bytes / mib),
            answer_of(stream.limit.error()),
        ),
        Limit(
            "body, at `make local`",
            (local.limit.max_bytes, local.limit.max_bytes / mib),
            answer_of(local.limit.error()),
        ),
        Limit("request line, both servers", (http_io.MAX_LINE,), (414, http_io.REFUSALS[414][0])),
        Limit("headers, both servers", (http_io.MAX_LINE, http.client._MAXHEADERS), (431, http_io.REFUSALS[431][0])),
        Limit(
            "chunked body, both servers",
            (http_io.MAX_CHUNK_LINE, http_io.MAX_TRAILERS),
            answer_of(http_io.bad_request("")),
        ),
        Limit("a request that stops arriving, both servers", (stream.read_timeout,), answer_of(http_io.timed_out())),
        Limit("an idle kept-alive connection, at `make local`", (local.idle_timeout,), None),
    ]


# English writes 262,144 and 1.8e308; Portuguese 262.144 and 1,8e308.
NUMBER = {"en": r"\d+(?:,\d{3})*(?:\.\d+)?(?:e\d+)?", "pt": r"\d+(?:\.\d{3})*(?:,\d+)?(?:e\d+)?"}


def numbers_in(cell: str, language: str) -> tuple[float, ...]:
    found = re.findall(NUMBER[language], re.sub(r"`[^`]*`|\]\([^)]*\)", "", cell))  # not in code or link targets
    if language == "en":
        return tuple(float(number.replace(",", "")) for number in found)
    return tuple(float(number.replace(".", "").replace(",", ".")) for number in found)


def limits_table(page: Path, heading: str) -> list[list[str]]:
    section = text_of(page).split(heading, 1)[1]
    table = section[section.index("\n|") :].split("\n\n", 1)[0]
    return table_rows(table)


@pytest.mark.parametrize(
    ("page", "heading", "language"),
    [(ROOT / "docs" / "security.md", "## Limits\n", "en"), (README_PT, "**Limites**", "pt")],
    ids=["security.md", "README.pt-BR.md"],
)
def test_the_limits_table_states_every_limit_as_the_code_enforces_it(page, heading, language):
    rows, expected = limits_table(page, heading), limits()

    assert len(rows) == len(expected), f"{page.name}: the Limits table has {len(rows)} rows, the code {len(expected)}"
    for row, limit in zip(rows, expected, strict=True):
        label, value, answer, _ = row
        if language == "en":
            assert label == limit.label, page.name
        assert numbers_in(value, language) == limit.numbers, f"{page.name}: {limit.label}: {value}"
        stated = re.fullmatch(r"`(\d{3}) (\w+)`", answer)
        assert ((int(stated[1]), stated[2]) if stated else None) == limit.answer, f"{page.name}: {limit.label}"
        if limit.keywords is not None:
            assert set(re.findall(r"`([^`]+)`", value)) == limit.keywords, f"{page.name}: {limit.label}"
