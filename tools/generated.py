"""The command line of a generated, committed file (docs/openapi.json, docs/architecture.svg): write it, or with
``--check`` say whether the committed copy is current (exit 1 when stale; tests run the same comparison)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def write_or_check(
    argv: list[str] | None, *, description: str, output: Path, generate: Callable[[], str], target: str
) -> int:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help=f"exit 1 if {output.name} is not current")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = output.exists() and output.read_text(encoding="utf-8") == text
        print(f"{output} is {'current' if current else f'stale: run make {target}'}")
        return 0 if current else 1
    output.parent.mkdir(exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}")
    return 0
