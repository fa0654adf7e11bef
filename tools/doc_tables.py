"""The tables in the documentation that restate the use-case catalog, generated so that they cannot drift.

    .venv/bin/python -m tools.doc_tables            # rewrite every generated table
    .venv/bin/python -m tools.doc_tables --check    # exit 1 when one is stale (a test runs the same comparison)

Three tables list what the catalog holds: the tasks in ``README.md`` and in ``README.pt-BR.md`` (which stream, which
take files), and the request fields of every route in ``docs/api.md``. Each sits between two HTML comments that name it; everything between them
is written here, from the same files the function and the stack read. Adding a use case therefore cannot leave a
table silently wrong: the test that compares them fails until this module has run again.

The Portuguese table's descriptions are translations of the catalog's summaries, kept below (``PT_BR_SUMMARIES``).
A task without a translation shows the catalog's English summary, marked "(em inglês)", until someone adds one.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genai_core.catalog import Catalog, UseCase, directive_of, load_catalog

ROOT = Path(__file__).resolve().parent.parent

# What each family covers, for the Portuguese reader (the family names stay in English: they are the API's paths).
PT_BR_FAMILIES = {
    "customer-experience": "experiência do cliente",
    "productivity": "produtividade",
    "process-optimization": "otimização de processos",
}
# The catalog's summaries in Brazilian Portuguese, by use case id. Written for a reader, not word for word.
PT_BR_SUMMARIES = {
    "customer-experience/analyze-conversation": (
        "Extrai de uma transcrição o sentimento do cliente, a intenção, um resumo e a próxima melhor ação."
    ),
    "customer-experience/chat": "Responde como assistente virtual a uma conversa de 1 a 50 mensagens.",
    "customer-experience/personalize": (
        "Escreve uma mensagem personalizada para o cliente e recomenda itens, só entre os `items` enviados."
    ),
    "process-optimization/augment": (
        "Gera exatamente `count` linhas sintéticas, cada uma válida contra o `schema` enviado."
    ),
    "process-optimization/classify": (
        "Classifica um texto ou arquivos em uma das `categories` do chamador, com confiança e justificativa."
    ),
    "process-optimization/detect-anomalies": "Aponta os registros anômalos de uma lista, com motivo e severidade.",
    "process-optimization/extract": (
        "Extrai de um documento (texto, PDF, arquivo Office ou imagem) os campos descritos por um JSON Schema (`fields`)."
    ),
    "productivity/ask": (
        "Responde a uma pergunta só com base nos documentos ou arquivos enviados, cita os usados e diz se eles respondem."
    ),
    "productivity/code": "Escreve, explica, revisa ou altera código, com uma explicação.",
    "productivity/draft": (
        "Redige e-mail, post de blog, descrição de produto, post para redes sociais ou comunicado, com título."
    ),
    "productivity/search": (
        "Responde a uma pergunta com os documentos da própria empresa na base de conhecimento, citando os trechos usados."
    ),
    "productivity/summarize": (
        "Resume um texto ou arquivos (PDF, Office, imagens) em parágrafo, tópicos ou uma frase (tl;dr), com limite "
        "opcional de palavras."
    ),
}


@dataclass(frozen=True)
class Table:
    """One generated table: the file it lives in, its name in the markers, and how it is written."""

    path: Path
    name: str
    render: Callable[[Catalog], str]

    @property
    def begin(self) -> str:
        return f"<!-- generated: {self.name} (tools/doc_tables.py writes this table from the catalog) -->"

    @property
    def end(self) -> str:
        return f"<!-- end of generated: {self.name} -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _route(use_case: UseCase, streams_note: str, files_note: str = "") -> str:
    route = f"`POST {use_case.path}`"
    if use_case.stream_path:
        route += f" {streams_note.format(f'`POST {use_case.stream_path}`')}"
    if files_note and use_case.file_input is not None:
        route += f" {files_note}"
    return route


def _rows_by_family(catalog: Catalog, row: Callable[[UseCase], list[str]], label: Callable[[str], str]) -> list[str]:
    lines = []
    for family, use_cases in catalog.by_family().items():
        for index, use_case in enumerate(use_cases):
            lines.append("| " + " | ".join([label(family) if index == 0 else "", *row(use_case)]) + " |")
    return lines


def tasks_en(catalog: Catalog) -> str:
    lines = ["| family | task | what it does |", "|---|---|---|"]
    lines += _rows_by_family(
        catalog,
        lambda u: [_route(u, "(streams too: {})", "(takes files)"), _cell(u.summary)],
        lambda family: f"**{family}**",
    )
    return "\n".join(lines)


def tasks_pt_br(catalog: Catalog) -> str:
    def row(use_case: UseCase) -> list[str]:
        summary = PT_BR_SUMMARIES.get(use_case.id)
        route = _route(use_case, "(também em streaming: {})", "(aceita arquivos)")
        return [route, _cell(summary or f"{use_case.summary} (em inglês)")]

    def label(family: str) -> str:
        gloss = PT_BR_FAMILIES.get(family)
        return f"**{family}** ({gloss})" if gloss else f"**{family}**"

    lines = ["| família | tarefa | o que faz |", "|---|---|---|"]
    lines += _rows_by_family(catalog, row, label)
    return "\n".join(lines)


def _field(name: str, schema: Mapping[str, Any]) -> str:
    """A request field with the one constraint a reader needs first: its choices, its item count or its range."""
    text = f"`{name}`"
    enum = schema.get("enum")
    if isinstance(enum, list) and all(isinstance(value, str) for value in enum):
        return f"{text} (" + "\\|".join(f"`{value}`" for value in enum) + ")"
    low, high = (
        (schema.get("minItems"), schema.get("maxItems"))
        if schema.get("type") == "array"
        else (schema.get("minimum"), schema.get("maximum"))
    )
    if isinstance(low, int) and isinstance(high, int):
        return f"{text} ({low}–{high})"
    return text


def _shape(schema: Any) -> str:
    """A reader's sketch of an answer's JSON: its properties, the literal choices of a string, the items of a list,
    the range of a number. A value that a directive sets per request is shown by its name only."""
    if not isinstance(schema, Mapping):
        return "..."
    if "$if" in schema:  # the shape when the request has the named input
        return _shape(schema.get("then"))
    enum = schema.get("enum")
    if isinstance(enum, list) and all(isinstance(value, str) for value in enum):
        return "\\|".join(f'"{value}"' for value in enum)
    kind = schema.get("type")
    if kind == "object" and isinstance(schema.get("properties"), Mapping):
        parts = []
        for name, value in schema["properties"].items():
            inner = _shape(value)
            parts.append(f'"{name}"' if inner == "..." else f'"{name}": {inner}')
        return "{" + ", ".join(parts) + "}"
    if kind == "array":
        items = _shape(schema.get("items"))
        return f"[{items}]" if items != "..." else "[...]"
    low, high = schema.get("minimum"), schema.get("maximum")
    if kind == "number" and isinstance(low, (int, float)) and isinstance(high, (int, float)):
        return f"{low}..{high}"
    return "..."


def _output(use_case: UseCase) -> str:
    if "text" in use_case.output:
        return f'`{{"{use_case.output["text"]}"}}`'
    schema = use_case.output["schema"]
    directive = directive_of(schema)
    if directive is not None:
        return f"an object valid against the request's `{schema[directive]}`"
    return f"`{_shape(schema)}`"


def requests_en(catalog: Catalog) -> str:
    lines = ["| route | required | optional | `output` |", "|---|---|---|---|"]
    for use_case in catalog:
        properties = use_case.input_schema.get("properties", {})
        required = [name for name in use_case.input_schema.get("required", []) if name in properties]
        optional = [name for name in properties if name not in required]
        cells = [
            _route(use_case, "(and {})"),
            ", ".join(_field(name, properties[name]) for name in required) or "—",
            ", ".join(_field(name, properties[name]) for name in optional) or "—",
            _output(use_case),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


TABLES = (
    Table(ROOT / "README.md", "tasks", tasks_en),
    Table(ROOT / "README.pt-BR.md", "tasks", tasks_pt_br),
    Table(ROOT / "docs" / "api.md", "requests", requests_en),
)


def shown(path: Path) -> str:
    """A path as the user sees it: relative to the repository when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def updated(text: str, table: Table, catalog: Catalog) -> str:
    """``text`` with the table between its markers rewritten; an error if the markers are missing."""
    pattern = re.compile(re.escape(table.begin) + r"\n.*?" + re.escape(table.end), flags=re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{shown(table.path)} has no generated {table.name!r} table (its markers)")
    block = f"{table.begin}\n{table.render(catalog)}\n{table.end}"
    return pattern.sub(lambda _: block, text, count=1)


def stale(catalog: Catalog | None = None) -> list[Path]:
    """The files whose generated tables differ from what the catalog gives now."""
    catalog = catalog if catalog is not None else load_catalog()
    outdated = []
    for table in TABLES:
        text = table.path.read_text(encoding="utf-8")
        if text != updated(text, table, catalog):
            outdated.append(table.path)
    return outdated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated table is not current")
    args = parser.parse_args(argv)
    catalog = load_catalog()
    if args.check:
        outdated = stale(catalog)
        for path in outdated:
            print(f"{shown(path)}: a generated table is stale: run .venv/bin/python -m tools.doc_tables")
        if not outdated:
            print("the generated tables are current")
        return 1 if outdated else 0
    for table in TABLES:
        text = table.path.read_text(encoding="utf-8")
        new = updated(text, table, catalog)
        if new != text:
            table.path.write_text(new, encoding="utf-8")
            print(f"wrote the {table.name} table of {shown(table.path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
