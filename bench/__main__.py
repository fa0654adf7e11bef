"""`make bench`: every benchmark, a PASS/FAIL line per budget, and docs/PERFORMANCE.md written from the figures.

    python -m bench                     # what `make bench` runs
    python -m bench --baseline 95a26a5  # also the function of another commit (before/after), in the same runs

Exits non-zero when a budget fails (the report is written all the same, showing the failure).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import coldstart, prompt_size, report, synth, testtime, warm
from bench import files as files_bench
from bench.common import ROOT

OUTPUT = ROOT / "docs" / "PERFORMANCE.md"


def function_at(commit: str, scratch: Path) -> Path:
    """The function's folder as it was at ``commit`` (git archive), to measure a before/after."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "lambda/genai_api"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive, check=True)
    return scratch / "lambda" / "genai_api"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--coldstart-runs", type=int, default=coldstart.RUNS)
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per task (warm)")
    parser.add_argument("--prompt-runs", type=int, default=7, help="runs of each route's worst body")
    parser.add_argument("--file-repeats", type=int, default=40, help="calls of each files figure")
    parser.add_argument("--synth-runs", type=int, default=7)
    parser.add_argument("--test-runs", type=int, default=3)
    parser.add_argument("--baseline", metavar="COMMIT", help="also measure the function of this commit")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    command = " ".join(["python -m bench", shlex.join(sys.argv[1:] if argv is None else argv)]).strip()

    load_at_start = report.load_average()
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        baseline_dir = function_at(args.baseline, Path(scratch)) if args.baseline else None
        baseline = (args.baseline, baseline_dir) if args.baseline and baseline_dir else None
        print(f"cold start: {args.coldstart_runs} runs of each interpreter ...", flush=True)
        cold = coldstart.measure(args.coldstart_runs, baseline=baseline)
        print(f"warm: {args.requests} requests per task ...", flush=True)
        warm_results = warm.measure_in_child(args.requests)
        warm_baseline = warm.measure_in_child(args.requests, baseline_dir) if baseline_dir else None
        print(f"prompt size: the worst body of each route, {args.prompt_runs} runs ...", flush=True)
        prompts = prompt_size.measure_in_child(args.prompt_runs)
        print(f"files: a 4 MiB inline document, {args.file_repeats} calls of each figure ...", flush=True)
        file_figures = files_bench.measure_in_child(args.file_repeats)
        print(f"synth: {args.synth_runs} runs of each app ...", flush=True)
        kept = Path(scratch) / "cdk.out"
        synth_result = synth.measure_synth(args.synth_runs, keep=kept)
        package = synth.measure_package(kept)
    print(f"tests: {args.test_runs} runs of `make test` ...", flush=True)
    tests = testtime.measure_tests(args.test_runs)

    results = report.Results(
        machine={
            **report.machine(),
            "load average (1, 5, 15 min)": f"{load_at_start} at the start, {report.load_average()} at the end",
        },
        command=command,
        baseline=args.baseline,
        coldstart=cold,
        warm=warm_results,
        warm_baseline=warm_baseline,
        synth=synth_result,
        package=package,
        tests=tests,
        prompt_size=prompts,
        compile_ms=report.compile_ms(),
        files=file_figures,
    )
    args.output.write_text(report.render(results))
    print(report.figures(results))
    verdicts = results.verdicts()
    for verdict in verdicts:
        print(verdict.line())
    print(f"wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0 if all(verdict.passed for verdict in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
