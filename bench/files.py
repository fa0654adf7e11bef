"""Files as input: the CPU that validating and forwarding one inline 4 MiB document adds (issue 14's budget: at most
20 ms), and what each part costs.

    .venv/bin/python -m bench.files [--repeats 40]

Each figure is the CPU time of this process (``time.process_time_ns``) for one call, as min / median / max over
``repeats`` calls after one warm-up; the budget applies to the minimum, the figure least disturbed by other work on a
shared machine. What is timed:

- the budget: ``files.resolve`` on one 4 MiB inline PDF: strict base64 decode, the contract checks, the sniff and
  the Converse block (what the function adds to a request that carries a file);
- its parts, and the alternatives for decoding base64 (the cheapest correct one is the one ``files.decode`` uses);
- the sniff of other formats at the same size, and the zip sniffer's worst case (a directory at its bound);
- around it, not in the budget but paid by the same request: parsing the 5.6 MB JSON body (``jsonbody``'s surrogate
  check re-serializes the whole request), and botocore building the Converse request (base64 again, then JSON),
  with a Stubber answering so that nothing is sent.

Not run by ``make bench`` yet: ``measure`` returns the figures and ``verdicts`` the budget, for ``bench/__main__.py``
and ``bench/report.py`` to adopt.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import io
import json
import os
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.common import FUNCTION_DIR, LAMBDA_ENV, ROOT, Summary, Verdict

BUDGET_MS = 20.0
SIZE = 4 * 1024 * 1024


@dataclass(frozen=True)
class Figure:
    name: str
    summary: Summary  # milliseconds of CPU
    in_budget: bool = False  # the figure the budget applies to


def cpu_ms(action: Callable[[], Any], repeats: int) -> Summary:
    action()  # warm-up: first-call costs (imports, caches) are not the request's
    samples = []
    for _ in range(repeats):
        start = time.process_time_ns()
        action()
        samples.append((time.process_time_ns() - start) / 1e6)
    return Summary.of(samples)


def _prepare() -> None:
    for key, value in LAMBDA_ENV.items():
        os.environ.setdefault(key, value)
    for path in (str(FUNCTION_DIR), str(ROOT)):
        if path not in sys.path:
            sys.path.insert(0, path)


def _docx_of(size: int) -> bytes:
    """A docx-shaped package of about ``size`` bytes: one large stored part (a typical embedded image)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/media/image1.png", os.urandom(size))
    return buffer.getvalue()


def _zip_at_the_directory_bound(limit: int) -> bytes:
    """A docx whose central directory is just under the sniffer's bound: the most entries zipfile is asked to read."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        number = 0
        while (number + 1) * (46 + len(f"word/{number}")) < limit - 1024:
            archive.writestr(f"word/{number}", b"")
            number += 1
    return buffer.getvalue()


def measure(repeats: int = 40, size: int = SIZE) -> list[Figure]:
    _prepare()
    import boto3
    from botocore.stub import Stubber

    from genai_core import file_contract, files
    from genai_core.jsonbody import parse_object
    from tests import file_samples

    pdf = file_samples.pdf(padding=size - len(file_samples.pdf()) - 64)  # just under the inline budget
    encoded = base64.b64encode(pdf).decode("ascii")
    items = [{"name": "contract.pdf", "format": "pdf", "data": encoded}]
    body = json.dumps({"files": items, "style": "bullets"}).encode("utf-8")
    line = "Relatório trimestral: receita +12%, churn 2,1%.\n".encode()
    text = line * (size // len(line))
    samples = {
        "pdf": pdf,
        "docx (one large part)": _docx_of(size),
        "txt (UTF-8, pt-BR)": text,
        "png": files.PNG + os.urandom(size),
    }
    worst_zip = _zip_at_the_directory_bound(files.MAX_ZIP_DIRECTORY_BYTES)

    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    answer = {
        "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
        "metrics": {"latencyMs": 1},
    }

    def forward() -> None:
        (attachment,) = files.resolve(items)
        content = files.user_content([attachment], [{"text": "Summarize the attached documents."}])
        with Stubber(client) as stubber:
            stubber.add_response("converse", answer)
            client.converse(modelId="us.amazon.nova-2-lite-v1:0", messages=[{"role": "user", "content": content}])

    figures = [
        Figure(
            f"files.resolve: one {size} B inline pdf (decode, checks, sniff, block)",
            cpu_ms(lambda: files.resolve(items), repeats),
            True,
        ),
        Figure(
            "  files.decode (binascii.a2b_base64, strict, of str.encode('ascii'))",
            cpu_ms(lambda: files.decode(encoded, "f"), repeats),
        ),
        Figure(
            "  alternative: base64.b64decode(validate=True)",
            cpu_ms(lambda: base64.b64decode(encoded, validate=True), repeats),
        ),
        Figure(
            "  alternative: binascii.a2b_base64(str, strict_mode=True)",
            cpu_ms(lambda: binascii.a2b_base64(encoded, strict_mode=True), repeats),
        ),
        Figure(
            "  not correct, for scale: binascii.a2b_base64 lax", cpu_ms(lambda: binascii.a2b_base64(encoded), repeats)
        ),
    ]
    for label, data in samples.items():
        figures.append(
            Figure(f"  files.sniff: {label}, {len(data)} B", cpu_ms(lambda data=data: files.sniff(data), repeats))
        )
    figures.append(
        Figure(
            f"  files.sniff worst case: a zip directory at the bound ({len(worst_zip)} B)",
            cpu_ms(lambda: files.sniff(worst_zip), repeats),
        )
    )
    figures += [
        Figure(f"around it: json.loads of the {len(body)} B body", cpu_ms(lambda: json.loads(body), repeats)),
        Figure(
            "around it: jsonbody.parse_object of the body (json.loads + surrogate check)",
            cpu_ms(lambda: parse_object(body, max_bytes=file_contract.MAX_BODY_BYTES_WITH_FILES), repeats),
        ),
        Figure(
            "around it: resolve + botocore builds the Converse request (Stubber)", cpu_ms(forward, max(5, repeats // 4))
        ),
    ]
    return figures


def verdicts(figures: Sequence[Figure]) -> list[Verdict]:
    return [
        Verdict(f"files: {figure.name}", figure.summary.min, BUDGET_MS, "ms CPU")
        for figure in figures
        if figure.in_budget
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.files", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args(argv)
    figures = measure(args.repeats)
    width = max(len(figure.name) for figure in figures)
    print(f"{'CPU per call, ms (min / median / max)':{width}}")
    for figure in figures:
        print(f"{figure.name:{width}}  {figure.summary.show('ms', 2)}")
    results = verdicts(figures)
    for verdict in results:
        print(verdict.line())
    return 0 if all(verdict.passed for verdict in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
