"""Files as input: the CPU that validating and forwarding one inline 4 MiB document adds (issue 14's budget: at most
20 ms), and what each part costs.

    .venv/bin/python -m bench.files [--repeats 40] [--json]

Each figure is the CPU time of this process (``time.process_time_ns``) for one call, as min / median / max over
``repeats`` calls after one warm-up; the budgets apply to the minimum, the figure least disturbed by other work on a
shared machine (``make bench`` runs it in a child interpreter: ``measure_in_child``). What is timed:

- the budgets: ``files.resolve`` on one 4 MiB inline PDF (strict base64 decode, the contract checks, the sniff and the
  Converse block), and what the file adds to the whole of our code for the request (``service.validate``, ``attach``
  and ``build_request``: parsing the 5.6 MB body, checking it, the file, and rendering the prompt), the same request
  without the file subtracted;
- the parts, and the alternatives for decoding base64 (the cheapest correct one is the one ``files.decode`` uses);
- the sniff of other formats at the same size, and the zip sniffer's worst case (a directory at its bound);
- around it, not in the budget: botocore building the Converse request (base64 again, then JSON), with a Stubber
  answering so that nothing is sent: the SDK's work for any request that carries bytes (``filesFromS3`` avoids it).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import dataclasses
import io
import json
import os
import subprocess
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
    in_budget: bool = False  # a figure the budget applies to


@dataclass(frozen=True)
class FilesResult:
    repeats: int
    size: int
    figures: list[Figure]

    def verdicts(self) -> list[Verdict]:
        return verdicts(self.figures)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FilesResult:
        figures = [Figure(f["name"], Summary(**f["summary"]), f["in_budget"]) for f in data["figures"]]
        return cls(data["repeats"], data["size"], figures)


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


def measure(repeats: int = 40, size: int = SIZE) -> FilesResult:
    _prepare()
    import boto3
    from botocore.stub import Stubber

    from genai_core import files
    from genai_core.catalog import load_catalog
    from genai_core.service import UseCaseService
    from tests import file_samples
    from tests.support import CDK_CONTEXT

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

    service = UseCaseService(load_catalog(), CDK_CONTEXT["models"], client)
    summarize = service.catalog.get("productivity/summarize")
    assert summarize is not None
    without = json.dumps({"text": "Summarize the contract.", "style": "bullets"}).encode("utf-8")
    with_file = json.dumps({"text": "Summarize the contract.", "files": items, "style": "bullets"}).encode("utf-8")

    def our_code(body: bytes) -> None:
        request = service.validate(summarize, body)
        attachments = service.attach(summarize, request)
        service.build_request(summarize, request, attachments=attachments)

    with_cost, without_cost = cpu_ms(lambda: our_code(with_file), repeats), cpu_ms(lambda: our_code(without), repeats)
    added = Summary(
        with_cost.n,
        max(0.0, with_cost.min - without_cost.min),
        max(0.0, with_cost.median - without_cost.median),
        max(0.0, with_cost.max - without_cost.max),
    )

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
            f"our code with the file minus without it (validate, attach, build_request; {len(with_file)} B body)",
            added,
            True,
        ),
        Figure(f"  our code for the body with the file, {len(with_file)} B", with_cost),
        Figure(f"  our code for the body without it, {len(without)} B", without_cost),
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
        Figure(f"  json.loads of the {len(body)} B body", cpu_ms(lambda: json.loads(body), repeats)),
        Figure(
            "not in the budget: resolve + botocore builds the Converse request (Stubber)",
            cpu_ms(forward, max(5, repeats // 4)),
        ),
    ]
    return FilesResult(repeats, size, figures)


def measure_in_child(repeats: int = 40) -> FilesResult:
    """``measure`` in a new interpreter: nothing shared with this process (its caches, its garbage)."""
    command = [os.path.abspath(sys.executable), "-m", "bench.files", "--repeats", str(repeats), "--json"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if completed.returncode not in (0, 1):  # 1: a budget failed, which the report shows
        raise RuntimeError(f"the files benchmark failed ({completed.returncode}): {completed.stderr[-3000:]}")
    return FilesResult.from_dict(json.loads(completed.stdout.splitlines()[-1]))


def verdicts(figures: Sequence[Figure]) -> list[Verdict]:
    return [
        Verdict(f"files: {figure.name}", figure.summary.min, BUDGET_MS, "ms CPU")
        for figure in figures
        if figure.in_budget
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.files", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--json", action="store_true", help="print the result as one line of JSON")
    args = parser.parse_args(argv)
    result = measure(args.repeats)
    if args.json:
        print(json.dumps(dataclasses.asdict(result)))
        return 0 if all(verdict.passed for verdict in result.verdicts()) else 1
    figures = result.figures
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
