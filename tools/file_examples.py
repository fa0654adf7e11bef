"""The example requests that carry a file: one per task that takes files, with a small real file in base64, written
under ``examples/<family>/<task>/`` (where ``make smoke``, ``tools.client`` and the tests find every example).

    make file-examples                      # or: .venv/bin/python -m tools.file_examples [--check]

The files are made here from text (``tools/sample_files.py``: byte for byte the same on every machine), so each
example is reproducible and reviewable: the content below is what the model is asked to read. A test fails when a
committed example differs from what this module writes, and when a task that takes files has none.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools import sample_files

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

INVOICE_FIELDS = {
    "type": "object",
    "required": ["invoiceNumber", "issueDate", "total", "currency"],
    "properties": {
        "invoiceNumber": {"type": "string", "description": "The invoice's number as printed"},
        "issueDate": {"type": "string", "format": "date"},
        "dueDate": {"type": "string", "format": "date"},
        "supplier": {"type": "string"},
        "total": {"type": "number", "minimum": 0},
        "currency": {"type": "string", "enum": ["BRL", "USD", "EUR"]},
    },
}


@dataclass(frozen=True)
class FileExample:
    """One example request: the task, the file's name and format, how its bytes are made, the other fields."""

    use_case: str  # family/task
    name: str
    format: str
    make: Callable[[], bytes]
    fields: dict[str, Any]

    @property
    def path(self) -> Path:
        return EXAMPLES / self.use_case / f"{self.format}-file.json"

    def body(self) -> dict[str, Any]:
        data = base64.b64encode(self.make()).decode("ascii")
        return {"files": [{"name": self.name, "format": self.format, "data": data}], **self.fields}

    def text(self) -> str:
        return json.dumps(self.body(), indent=2, ensure_ascii=False) + "\n"


FILE_EXAMPLES = (
    FileExample(
        "productivity/summarize",
        "board-minutes-2026-11.pdf",
        "pdf",
        lambda: sample_files.pdf(
            [
                "Board meeting minutes - 12 November 2026",
                "Present: Ana Souza (chair), Bruno Lima, Carla Mendes, Diego Rocha.",
                "1. Q3 results: revenue grew 12% to 4.1 billion; churn fell from 2.6% to 2.1%.",
                "2. The board approved the 2027 budget of 380 million, 6% above 2026.",
                "3. The new Recife office is postponed to March 2027, pending the lease review.",
                "4. Action: Bruno presents the supplier renegotiation plan on 10 December.",
            ]
        ),
        {"style": "bullets", "maxWords": 60},
    ),
    FileExample(
        "productivity/ask",
        "politica-de-trocas.docx",
        "docx",
        lambda: sample_files.docx(
            [
                "Política de trocas e devoluções (compras online)",
                "O cliente pode desistir de qualquer compra online em até 7 dias corridos do recebimento, sem "
                "justificativa, com reembolso integral, incluindo o frete original (CDC, art. 49).",
                "Depois de 7 dias, aceitamos devoluções apenas de produtos com defeito, dentro da garantia legal de "
                "90 dias para bens duráveis. Nesses casos, o frete de devolução é pago pela loja.",
            ]
        ),
        {"question": "Comprei um liquidificador há 10 dias e me arrependi. Posso devolver? Quem paga o frete?"},
    ),
    FileExample(
        "process-optimization/extract",
        "nota-fiscal-000123456.pdf",
        "pdf",
        lambda: sample_files.pdf(
            [
                "NOTA FISCAL DE SERVICOS ELETRONICA - No 000.123.456",
                "Emitida em 03/11/2026 - Vencimento: 20/11/2026",
                "Prestador: Limpeza Brilho Ltda., CNPJ 12.345.678/0001-90",
                "Tomador: Padaria Pao Quente ME",
                "Servico: limpeza mensal de cozinha industrial (novembro/2026)",
                "Valor total: R$ 1.250,00",
            ]
        ),
        {"fields": INVOICE_FIELDS},
    ),
    FileExample(
        "process-optimization/classify",
        "scan-0042.png",
        "png",
        lambda: sample_files.png(["INVOICE 0042", "DATE: 03/11/2026", "TOTAL: $1,250.00", "STATUS: PAID"]),
        {"categories": ["invoice", "receipt", "contract", "complaint", "other"]},
    ),
)


def stale() -> list[Path]:
    """The examples whose committed text differs from what this module writes (or that are missing)."""
    return [e.path for e in FILE_EXAMPLES if not e.path.exists() or e.path.read_text(encoding="utf-8") != e.text()]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if an example is not current")
    args = parser.parse_args(argv)
    if args.check:
        for path in stale():
            print(f"{path.relative_to(ROOT)} is stale: run make file-examples")
        return 1 if stale() else 0
    for example in FILE_EXAMPLES:
        example.path.parent.mkdir(parents=True, exist_ok=True)
        example.path.write_text(example.text(), encoding="utf-8")
        print(f"wrote {example.path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
