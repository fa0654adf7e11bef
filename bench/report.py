"""docs/PERFORMANCE.md, written from one run's figures: the machine, the command, every figure as min / median / max,
each budget's verdict, and the decisions the figures support."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import coldstart, prompt_size, synth, testtime, warm
from bench import files as files_bench
from bench.coldstart import ColdStart
from bench.common import CDK_CONTEXT, FUNCTION_DIR, Summary, Verdict
from bench.prompt_size import PromptSize
from bench.synth import Package, Synth
from bench.testtime import TestTime
from bench.warm import TaskResult

PACKAGES = ("boto3", "botocore", "aws-lambda-powertools", "aws-xray-sdk", "aws-cdk-lib", "cdk-nag")
MEMORY_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html"
POWER_DOC = "https://docs.aws.amazon.com/lambda/latest/operatorguide/computing-power.html"
ARCH_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/foundation-arch.html"
GRAVITON_BLOG = (
    "https://aws.amazon.com/blogs/aws/aws-lambda-functions-powered-by-aws-graviton2-processor-run-your-functions-on-arm-"
    "and-get-up-to-34-better-price-performance/"
)
SNAPSTART_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html"
ONE_VCPU_MB = 1769  # "At 1,769 MB, a function has the equivalent of one vCPU" (MEMORY_DOC)


@dataclass(frozen=True)
class Results:
    machine: dict[str, str]
    command: str
    baseline: str | None
    coldstart: ColdStart
    warm: list[TaskResult]
    warm_baseline: list[TaskResult] | None
    synth: Synth
    package: Package
    tests: TestTime
    prompt_size: PromptSize
    compile_ms: float | None = None
    files: files_bench.FilesResult | None = None

    def verdicts(self) -> list[Verdict]:
        found = list(self.coldstart.verdicts())
        for task in self.warm:
            found += task.verdicts()
        found += self.prompt_size.verdicts()
        found += self.files.verdicts() if self.files is not None else []
        return found + self.synth.verdicts() + self.package.verdicts() + self.tests.verdicts()


def _first_line(command: Sequence[str]) -> str:
    try:
        completed = subprocess.run(list(command), capture_output=True, text=True, check=False)
    except OSError:
        return "unknown"
    return (
        (completed.stdout or completed.stderr).strip().splitlines()[0]
        if (completed.stdout or completed.stderr)
        else "unknown"
    )


def machine() -> dict[str, str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    os_name = platform.platform()
    os_release = Path("/etc/os-release")
    if os_release.exists():
        for line in os_release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = f"{line.split('=', 1)[1].strip(chr(34))} (kernel {platform.release()})"
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return {
        "CPU": f"{cpu}, {platform.machine()}",
        "cores": str(os.cpu_count()),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "OS": os_name,
        "Node.js": _first_line(["node", "--version"]),
        "packages": ", ".join(versions),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def load_average() -> str:
    """The machine's load averages: on a shared machine, how much else was running while the figures were taken."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def compile_ms(directory: Path = FUNCTION_DIR, repeats: int = 5) -> float:
    """CPU time to compile the function's own modules from source, as the runtime does at each cold start (the
    median of ``repeats``)."""
    sources = [(path, path.read_text(encoding="utf-8")) for path in sorted(directory.rglob("*.py"))]
    times = []
    for _ in range(repeats):
        started = time.process_time()
        for path, source in sources:
            compile(source, str(path), "exec")
        times.append((time.process_time() - started) * 1000)
    return Summary.of(times).median


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _mmm(summary: Summary, digits: int = 1) -> str:
    return f"{summary.min:.{digits}f} / {summary.median:.{digits}f} / {summary.max:.{digits}f}"


def _verdict_table(verdicts: list[Verdict]) -> list[str]:
    lines = [_row(["figure", "measured", "budget", "verdict"]), _row(["---", "---:", "---:", "---"])]
    for verdict in verdicts:
        lines.append(
            _row(
                [
                    verdict.name,
                    f"{verdict.measured:.4g} {verdict.unit}",
                    f"≤ {verdict.limit:g} {verdict.unit}",
                    "**PASS**" if verdict.passed else "**FAIL**",
                ]
            )
        )
    return lines


def figures(results: Results) -> str:
    """The figures as plain text (what `make bench` prints before the verdicts)."""
    cold = results.coldstart
    lines = ["cold start, CPU ms in the child (min / median / max):"]
    lines += [f"  {kind:48} {_mmm(summary)}" for kind, summary in cold.cpu_ms.items()]
    lines.append("warm, CPU ms per request (p50 / p99 / max), ours vs minimal:")
    for task in results.warm:
        lines.append(
            f"  {task.task:48} {task.ours.p50_ms:.3f} / {task.ours.p99_ms:.3f} / {task.ours.max_ms:.3f}"
            f"  vs  {task.minimal.p50_ms:.3f} / {task.minimal.p99_ms:.3f} / {task.minimal.max_ms:.3f}"
        )
    lines.append("synth, wall s (min / median / max):")
    lines += [f"  {name:48} {_mmm(summary, 2)}" for name, summary in results.synth.wall_s.items()]
    lines.append(
        "prompt size, worst body of the allowed size: body / prompt bytes, ratio, CPU ms (min / median / max):"
    )
    for route in results.prompt_size.routes:
        lines.append(
            f"  {route.label:48} {route.body_bytes} / {route.prompt_bytes}  {route.ratio:.3f}x  {_mmm(route.cpu_ms, 2)}"
        )
    if results.files is not None:
        lines.append("files, CPU ms per call (min / median / max):")
        lines += [f"  {figure.name:48} {_mmm(figure.summary, 2)}" for figure in results.files.figures]
    lines.append(f"package: {results.package.zipped_bytes} bytes zipped ({results.package.files} files)")
    lines.append(f"make test, wall s (min / median / max): {_mmm(results.tests.wall_s)}  [{results.tests.summary}]")
    return "\n".join(lines)


def _coldstart_section(results: Results) -> list[str]:
    cold = results.coldstart
    floor, handler = cold.cpu_ms["floor"].median, cold.cpu_ms["handler"].median
    lines = [
        "## 1. Cold start",
        "",
        (
            f"Each run is a new interpreter that imports the handler (`import handler`), or runs the floor (`import boto3` "
            f'and `boto3.client("bedrock-runtime")`), with the function\'s environment as the stack sets it (the '
            f"variables of `FUNCTION_ENV` in `tests/support.py`, fake credentials and region, `LAMBDA_TASK_ROOT` set as "
            f"in Lambda so that the Tracer is on and patches botocore, as deployed) and the function's folder copied "
            f"without bytecode: Lambda's `/var/task` is read-only and the asset ships no `.pyc`, so the runtime compiles "
            f"our modules from source at every cold start. The child measures its own CPU time (`time.process_time`) "
            f"around the import; the kinds alternate, each round in the opposite order, {cold.runs} runs each. "
            f"(`bench/coldstart.py`)"
        ),
        "",
        _row(
            [
                "interpreter",
                "CPU ms, min / median / max",
                "whole process CPU ms, median",
                "wall ms, median",
                "peak RSS MB, median",
            ]
        ),
        _row(["---", "---:", "---:", "---:", "---:"]),
    ]
    for kind, summary in cold.cpu_ms.items():
        added = cold.added_ms(kind)
        label = f"{kind} ({added:+.1f} ms)" if added is not None else kind
        lines.append(
            _row(
                [
                    label,
                    _mmm(summary),
                    f"{cold.process_cpu_ms[kind].median:.1f}",
                    f"{cold.wall_ms[kind].median:.1f}",
                    f"{cold.max_rss_mb[kind].median:.0f}",
                ]
            )
        )
    interval = cold.ratio_interval()
    spread = (
        f" The run's own noise: a bootstrap of its runs (each kind's resampled 2,000 times) puts 95% of the ratios "
        f"between {interval[0]:.2f}× and {interval[1]:.2f}×; the verdict uses the medians, and a figure near the "
        f"budget can change verdict between runs of the same code."
        if interval is not None
        else ""
    )
    lines += [
        "",
        (
            f"**Handler / floor: {cold.ratio:.2f}×** (medians, {handler:.1f} / {floor:.1f} ms; budget ≤ "
            f"{coldstart.BUDGET_RATIO}×).{spread} The whole-process column adds interpreter start-up and shutdown: at exit the "
            f"interpreter runs one last collection, which skips the objects the handler froze (below), so that column "
            f"can be lower for the handler than for the floor; the budget uses the import's own CPU time."
        ),
        "",
    ]
    paused = cold.cpu_ms.get("floor, GC paused")
    rows = list(coldstart.BREAKDOWN)
    if paused is not None:
        tracer_row = cold.cpu_ms[rows[-1]].median
        ours = handler - tracer_row
        botocore_floor = cold.cpu_ms[rows[1]].median
        botocore_saves = paused.median - botocore_floor
        lines += [
            (
                "**What the init pays for.** The rows under the two of the budget each add one thing to the row before "
                "(the added median CPU time in brackets), all with the garbage collector paused as the handler's init "
                "pauses it, so that the difference is the cost of what the row adds:"
            ),
            "",
            (
                f"- the floor itself is {paused.median:.1f} ms with the collector paused ({floor - paused.median:.1f} ms "
                f"less than with it on);"
            ),
            (
                f"- the client from botocore alone, as the function makes it (`genai_core/clients.py`: boto3's "
                f"resources and s3transfer are never used, so boto3 is never imported): "
                f"{botocore_floor:.1f} ms, {botocore_saves:.1f} ms less than the floor with the collector paused;"
            ),
            f"- Powertools Logger and Metrics: {cold.added_ms(rows[2]):.1f} ms;",
            (
                f"- the Powertools event handler (`APIGatewayRestResolver`; importing it imports every resolver of "
                f"`aws_lambda_powertools.event_handler`, AppSync's with asyncio among them): {cold.added_ms(rows[3]):.1f} ms;"
            ),
            (
                f"- the Tracer (the X-Ray SDK, from the same managed layer in Lambda, and its botocore patch): "
                f"{cold.added_ms(rows[4]):.1f} ms;"
            ),
            f"- our code, {ours:.1f} ms: compiling our modules from source"
            + (f" ({results.compile_ms:.1f} ms measured apart)" if results.compile_ms is not None else "")
            + ", defining their classes, loading the catalog and compiling its schemas, the client's configuration, "
            "the services and the routes.",
            "",
            (
                f"Against the floor with the collector paused the handler is {handler / paused.median:.2f}×, and against "
                f"the client from botocore alone with the collector paused {handler / botocore_floor:.2f}×: the budget's "
                f"floor is the plain `import boto3` + client, and pausing the collector and leaving boto3 out are two of "
                f"our optimizations (below), but a reader comparing like with like should know these figures too."
            ),
            "",
        ]
    lines += [
        (
            "**What was optimized.** Profiling the import (`python -X importtime`, `cProfile`, and `gc.callbacks` to "
            "time the collector) showed that no module dominates our part of the init, but that the cyclic garbage "
            "collector did: the init allocates a few hundred thousand long-lived objects and next to no garbage, and "
            "those allocations triggered collection after collection, a full one among them, each walking the objects "
            "made so far. `lambda/genai_api/init_gc.py`, imported first by `handler.py`, pauses the collector; the last "
            "statement of `handler.py` freezes every object alive at that point (`gc.freeze`: later collections skip "
            "them) and switches the collector back on. The same freeze removes the full collections from the warm path "
            "(see the maximum per-request time below)."
        ),
        "",
        (
            "The function makes its clients with botocore alone (`lambda/genai_api/genai_core/clients.py`, one home for "
            "the four clients' timeouts, retries and user agent), from one botocore session per container: boto3 adds "
            "resources and s3transfer, which the function never uses, and importing it is most of the difference "
            "between the floor and the botocore row above. In Lambda, boto3 and botocore both come from the runtime, so "
            "the saving there is the import of boto3 and s3transfer; its size there is not measured here."
        ),
        "",
    ]
    baseline_rows = [kind for kind in cold.cpu_ms if kind.startswith("handler at ")]
    for kind in baseline_rows:
        before = cold.cpu_ms[kind].median
        lines += [
            (
                f"Before/after, measured in the same alternation: the handler of `{kind.removeprefix('handler at ')}` "
                f"(before this work) takes {before:.1f} ms, {before / floor:.2f}× the floor; now {handler:.1f} ms, "
                f"{cold.ratio:.2f}× ({before - handler:.1f} ms less)."
            ),
            "",
        ]
    lines += [
        (
            "Also checked, and left as they are: the catalog's schemas are compiled once at init (`load_catalog`, about a "
            "millisecond for the eleven tasks); the retry client is built on first use; `base64`, `binascii`, `json` and "
            "`re` are already imported by botocore, so importing them lazily saves nothing."
        ),
        "",
        "**Decisions.**",
        "",
        (
            "- *The Tracer stays.* Its cost is the row above; the X-Ray trace is the operators' per-request view of the "
            "Bedrock call (docs/operations.md, Traces), and in Lambda the SDK comes from the managed layer, so it adds nothing "
            "to the package."
        ),
        (
            "- *The budget holds with Powertools.* Were it to be tightened to the collector-paused floor, the largest "
            "single item is the Powertools event handler; a hand-written router for the twelve fixed routes would remove "
            "it, at the cost of the resolver's request parsing, 404/405 handling and the `Router` structure the "
            "conventions ask for. Not done: the budget holds without it."
        ),
        (
            "- *Proposals, not done.* (1) Ship bytecode: the asset has none (tests write `.pyc` of another Python, and the "
            "asset hash would change), so Lambda compiles our modules at each cold start; compiling them with the "
            "runtime's own Python (3.14) at build time as unchecked-hash `.pyc` would remove that cost, but needs a 3.14 "
            "interpreter in the build, which this project does not have. (2) "
            f"[Lambda SnapStart]({SNAPSTART_DOC}) (Python 3.12 and later) restores an initialized snapshot instead of "
            "running the init; it works on published versions only (the API would invoke an alias) and has its own "
            "charges for Python; worth it if cold starts show in the API's p99."
        ),
        (
            "- *Python here and in Lambda.* These figures are CPython "
            f"{platform.python_version()} on this machine; the function runs on Python 3.14, whose collector is "
            "incremental (two generations): pausing it during init and freezing what the init made still applies, but "
            "the size of the gain there is not measured here."
        ),
        "",
    ]
    return lines


def _warm_section(results: Results) -> list[str]:
    lines = [
        "## 2. Warm overhead per request",
        "",
        (
            "The real `lambda_handler` and `bench/minimal_handler.py` (parse the body, call Converse, dump JSON) in one "
            "process, with the function's environment, each driven by a real-shaped API Gateway REST event "
            "(`tests/support.api_event`) with the task's example request from `examples/`. Converse is replaced on each "
            "handler's own client by a function that returns a canned answer (a text answer for the text task, a valid "
            "`record_classification` tool call for the structured one), so only our code is timed. Requests alternate "
            "between the two handlers; the log lines and EMF documents go to `os.devnull` for both; the collector runs "
            "as in Lambda; tracing is off, as in the tests (no X-Ray daemon here). Each request is timed as the CPU time "
            "of the thread (`time.thread_time_ns`), which the budgets use, and as wall time, shown too: on this shared "
            "machine the wall time's tail also holds moments when another process had the core. (`bench/warm.py`)"
        ),
        "",
        (
            "The remembered turn (a chat request with `conversationId`) is timed against "
            "`minimal_handler.remembered_handler`, the least a function that remembers does: one consistent GetItem of "
            "the caller's conversation, its messages and the new one to Converse, one PutItem of the item with the "
            "exchange added. Both handlers' DynamoDB clients are answered at once by botocore's Stubber with the same "
            f"stored conversation ({warm.STORED_EXCHANGES} exchanges), so that the overhead is our code's (owner hash, "
            "checks, history budget, trimming and size accounting, conditional write, logs, metrics), not botocore's "
            "share of two DynamoDB calls, which both pay. The function's DynamoDB client skips botocore's request "
            "check, which walked every attribute of the item (a third of the store's CPU time): its requests are "
            "checked against DynamoDB's model by the tests instead."
        ),
        "",
        _row(
            [
                "task",
                "requests",
                "ours p50 / p99 / max ms",
                "minimal p50 / p99 / max ms",
                "**overhead p50**",
                "**overhead p99**",
                "wall: ours p50 / p99 / max ms",
            ]
        ),
        _row(["---", "---:", "---:", "---:", "---:", "---:", "---:"]),
    ]
    for task in results.warm:
        lines.append(
            _row(
                [
                    task.task,
                    task.requests,
                    f"{task.ours.p50_ms:.3f} / {task.ours.p99_ms:.3f} / {task.ours.max_ms:.3f}",
                    f"{task.minimal.p50_ms:.3f} / {task.minimal.p99_ms:.3f} / {task.minimal.max_ms:.3f}",
                    f"**{task.overhead_p50_ms:.3f}**",
                    f"**{task.overhead_p99_ms:.3f}**",
                    f"{task.ours_wall.p50_ms:.3f} / {task.ours_wall.p99_ms:.3f} / {task.ours_wall.max_ms:.3f}",
                ]
            )
        )
    lines += [
        "",
        (
            f"Budgets: overhead p50 ≤ {warm.BUDGET_P50_MS} ms and p99 ≤ {warm.BUDGET_P99_MS} ms. A profile of the "
            "structured task (`cProfile`, 2,000 requests) showed the per-request work spread over validation, prompt "
            "rendering, the EMF and log documents and the resolver; the one avoidable cost was resolving the output "
            "schema's directives and compiling it twice per request (once for the tool, once to check the answer): "
            "`UseCaseService.run` now resolves and compiles it once."
        ),
        "",
    ]
    if results.warm_baseline:
        lines += [
            _row(["task", f"overhead p50 / p99 / max ms at `{results.baseline}`", "now"]),
            _row(["---", "---:", "---:"]),
        ]
        baseline_by_task = {result.task: result for result in results.warm_baseline}
        for now in results.warm:
            before = baseline_by_task.get(now.task)
            if before is None:  # a task the baseline's function does not have
                lines.append(
                    _row(
                        [
                            now.task,
                            "(not served)",
                            f"{now.overhead_p50_ms:.3f} / {now.overhead_p99_ms:.3f} / {now.ours.max_ms:.3f}",
                        ]
                    )
                )
                continue
            lines.append(
                _row(
                    [
                        now.task,
                        f"{before.overhead_p50_ms:.3f} / {before.overhead_p99_ms:.3f} / {before.ours.max_ms:.3f}",
                        f"{now.overhead_p50_ms:.3f} / {now.overhead_p99_ms:.3f} / {now.ours.max_ms:.3f}",
                    ]
                )
            )
        lines += [
            "",
            (
                "(max: the slowest request of ours; before the init froze its objects, a full collection during a "
                "request walked all of them.)"
            ),
            "",
        ]
    return lines


def _package_synth_tests(results: Results) -> list[str]:
    package, synth_result, tests = results.package, results.synth, results.tests
    lines = [
        "## 3. Package size",
        "",
        (
            f"The function's asset as the app synthesizes it (`{package.asset}`, found from the `aws:asset:path` metadata "
            f"of the function in the API stack's template), zipped with deflate, files in sorted order with fixed dates: "
            f"**{package.zipped_bytes / 1024:.1f} KB** ({package.zipped_bytes} bytes; {package.files} files, "
            f"{package.unzipped_bytes} bytes unzipped). Budget ≤ {synth.BUDGET_PACKAGE_KB} KB. Nothing is bundled: boto3 "
            f"is the runtime's, Powertools and the X-Ray SDK the managed layer's. (`bench/synth.py`)"
        ),
        "",
        "## 4. Synth time",
        "",
        (
            "`python app.py` (both stacks, cdk-nag included) against `bench/minimal_app.py` (one function from inline "
            "code, one REST API with one method, no cdk-nag), each a new process given what `cdk synth` gives the app "
            "it starts: the context in `CDK_CONTEXT_JSON` (`cdk.json`'s context plus the CLI's defaults: path and asset "
            "metadata, version reporting, bundling of every stack, validation failures reported to the CLI) and the "
            "output folder in `CDK_OUTDIR`. `app.py` reads `cdk.json`'s context itself beneath the CLI's, and the "
            f"variables add what only the CLI gives. Alternated, {synth_result.runs} runs each, wall time. (`bench/synth.py`)"
        ),
        "",
        _row(["app", "wall s, min / median / max"]),
        _row(["---", "---:"]),
    ]
    lines += [_row([name, _mmm(summary, 2)]) for name, summary in synth_result.wall_s.items()]
    lines += [
        "",
        (
            f"**app.py / minimal: {synth_result.ratio:.2f}×** (medians; budget ≤ {synth.BUDGET_RATIO}×). The "
            f"fastest runs give {synth_result.wall_s['app.py'].min / synth_result.wall_s['minimal'].min:.2f}×: wall "
            "time on a shared 2-core machine stretches with whatever else runs (see the load averages under "
            "Machine), the longer app's more. The last row is starting Python and importing `aws_cdk` alone, for "
            "scale. Profiled in-process (`build_app()` and `synth()` timed apart, then again without cdk-nag and "
            "without the monitoring stack): building the constructs takes under half a second, most of the time is "
            "`synth()` through jsii, and neither cdk-nag's validation nor the monitoring stack stands out (removing "
            "either saved less than the spread between runs). Nothing of ours stood out to cut."
        ),
        "",
        "## 5. Test time",
        "",
        (
            f"`make test` with its set-up already done, {tests.runs} runs, wall time: **{_mmm(tests.wall_s)} s** "
            f"(min / median / max; budget ≤ {testtime.BUDGET_S:g} s on {results.machine['cores']} cores). Last run: "
            f"{tests.summary}. Slowest tests of the last run (`pytest --durations={testtime.SLOWEST}`, passed through "
            "`PYTEST_ARGS`; the first test to use the session's synthesized app pays for the synth):"
        ),
        "",
        _row(["seconds", "phase", "test"]),
        _row(["---:", "---", "---"]),
    ]
    lines += [_row([f"{slow.seconds:.2f}", slow.phase, f"`{slow.test}`"]) for slow in tests.slowest]
    lines.append("")
    return lines


def _prompt_section(results: Results) -> list[str]:
    figures = results.prompt_size
    lines = [
        "## 6. Prompt size",
        "",
        (
            f"For every route, the worst request body of the allowed size ({figures.limit:,} bytes), generated from the "
            "route's input schema: every string at its maximum length, made of characters that grow when escaped or "
            "look like the blocks' tags (quotes, backslashes, control characters, near-miss closing tags, a guessed "
            "key, UTF-8 of 2 to 4 bytes); every list at its maximum number of items; a caller schema with as many "
            "properties as the schema rules allow; and every free-form object (`records`, `customer`, `items`) "
            "filled, in turn, with lists nested as deep as the parser accepts (`MAX_JSON_DEPTH`, less the levels "
            "above them), with floats that "
            "Python writes longer than JSON can (`1e5` is `100000.0`), or with hostile text, one row each. "
            "Everything is scaled down together until the body is as large as the limit allows, "
            "written compactly, floats short. Each body goes through the deployed handler's own service (its init "
            "done, as in Lambda): `validate` and `build_request`, everything the function does before it calls "
            f"Bedrock (parse, validate, resolve the output schema, render the prompt), {figures.runs} runs, timed as "
            "the CPU time of the thread. The prompt's size is the system prompt and every text block of the messages, "
            "in UTF-8 bytes. (`bench/prompt_size.py`)"
        ),
        "",
        _row(
            [
                "route",
                "body bytes",
                "prompt bytes",
                "prompt / body",
                "nesting",
                "filled with",
                "CPU ms, min / median / max",
            ]
        ),
        _row(["---", "---:", "---:", "---:", "---:", "---", "---:"]),
    ]
    for route in figures.routes:
        lines.append(
            _row(
                [
                    f"`{route.route}`",
                    f"{route.body_bytes:,}",
                    f"{route.prompt_bytes:,}",
                    f"{route.ratio:.3f}",
                    route.depth,
                    route.filler or "(no free-form object)",
                    _mmm(route.cpu_ms, 2),
                ]
            )
        )
    lines += [
        "",
        (
            f"Budgets: for every route, at most {prompt_size.BUDGET_CPU_MS:g} ms of CPU (median) and a prompt at most "
            f"{prompt_size.BUDGET_RATIO:g} times the body. The prompt can be smaller than the body: escapes in the body "
            '(`\\"`, `\\n`, `\\u00e7`) are one character in a text block, and a caller schema reaches the model as '
            "the tool's schema, not as a block. It is larger only by the task's fixed text (the system prompt, the "
            "tags, the instruction: a few KB, which shows on the routes whose body cannot reach the limit) and by "
            "floats, which compact JSON writes as Python does (`1e5` is `100000.0`) until the renderer writes their "
            "zeros as an exponent again (`100e3`): at most about 1.5 times the caller's shortest spelling. Before this "
            "measure, data blocks were indented JSON, and a body of nested lists rendered to hundreds of times its "
            "size. The rendered prompt is also capped at twice the body limit "
            "(`genai_core.prompts.MAX_PROMPT_CHARS`, a 413 `prompt_too_large` before any model call)."
        ),
        "",
    ]
    return lines


def _files_section(results: Results) -> list[str]:
    result = results.files
    if result is None:
        return []
    lines = [
        "## 7. Files",
        "",
        (
            f"One inline PDF of {result.size:,} bytes (the inline budget, `file_contract.MAX_INLINE_BYTES`), as a task "
            "that takes files receives it: its CPU time per call in this process (`time.process_time_ns`), "
            f"{result.repeats} calls after one warm-up, in a child interpreter. The budgets (≤ {files_bench.BUDGET_MS:g} "
            "ms, on the minimum) are the file's own check (`files.resolve`: strict base64 decode, the contract, the "
            "sniff, the Converse block) and what the file adds to the whole of our code for the request "
            "(`service.validate`, `attach` and `build_request`, with the same request without the file subtracted: "
            "parsing the larger body, the checks, the file, the prompt). Botocore then encodes the bytes in base64 "
            "again and the request as JSON: the SDK's work for any request that carries bytes, shown apart and not "
            "in the budget (`filesFromS3` sends an `s3Location` instead). (`bench/files.py`)"
        ),
        "",
        _row(["what", "CPU ms, min / median / max"]),
        _row(["---", "---:"]),
    ]
    for figure in result.figures:
        name = figure.name.strip()
        lines.append(_row([f"**{name}**" if figure.in_budget else name, _mmm(figure.summary, 2)]))
    lines += [
        "",
        (
            "What it costs and what was done about it: decoding the base64 is most of it (the strict decoder the "
            "function uses is the cheapest correct one measured here); the body's JSON parse is the rest. Two scans "
            "of the whole body that `jsonbody.parse_object` made for every request were skipped for such a body: the "
            "search for a number literal that could overflow a double (about 30 ns a byte: 150 ms over 5.6 MB of "
            "base64, in which it finds `e123` by chance; a body over the usual limit now takes the finite-float hook "
            "without the scan, its other fields held to the usual limit), and the two-byte search for a `\\u` "
            "escape (now after a one-byte search for a backslash, which base64 never has); and an empty-body check "
            "no longer copies the body. The sniff reads a few bytes (the zip directory at most, bounded)."
        ),
        "",
    ]
    return lines


def _memory_section(results: Results) -> list[str]:
    memory = int(CDK_CONTEXT["lambdaMemoryMb"])
    share = memory / ONE_VCPU_MB
    handler_rss = results.coldstart.max_rss_mb["handler"].median
    handler_cpu = results.coldstart.cpu_ms["handler"].median
    structured = next((task for task in results.warm if task.task.startswith("structured")), results.warm[-1])
    return [
        "## Memory size and architecture",
        "",
        f"The function runs on **arm64** with **{memory} MB** (`lambdaMemoryMb`).",
        "",
        (
            f"- **arm64 (Graviton).** Lambda bills arm64 at a lower price per GB-second than x86_64 "
            f"([instruction set architectures]({ARCH_DOC}); AWS's launch post quotes [up to 34% better price "
            f"performance]({GRAVITON_BLOG})). The function is pure Python with no native dependency to port, and the "
            "Powertools layer is the arm64 build (`AWSLambdaPowertoolsPythonV3-python314-arm64`). These benchmarks run "
            "on x86_64: they compare our code with a floor on the same machine, not the two architectures."
        ),
        (
            f"- **{memory} MB.** Lambda allocates CPU in proportion to memory: at {ONE_VCPU_MB:,} MB a function has the "
            f"equivalent of one vCPU ([configuring memory]({MEMORY_DOC}); [memory and computing power]({POWER_DOC})), "
            f"so {memory} MB is about {share:.0%} of a vCPU. Memory is not the constraint: the initialized handler peaks "
            f"at {handler_rss:.0f} MB resident here. The request path is CPU-light: our per-request work is "
            f"{structured.ours.p50_ms:.2f} ms of CPU here for a structured task, and the rest of a request is waiting "
            f"on Bedrock (seconds), which more memory does not shorten but bills. The init is where the CPU share "
            f"matters: {handler_cpu:.0f} ms of CPU here; at about {share:.0%} of a vCPU it could stretch to roughly "
            f"{handler_cpu / share / 1000:.1f} s if Lambda held the init to that share and its cores ran like this "
            "machine's — an estimate, not a measurement. Check the real figure in the function's `REPORT` log lines "
            '(CloudWatch Logs Insights: `filter @type = "REPORT" | stats avg(@initDuration), max(@initDuration)`), '
            "and raise `lambdaMemoryMb` (for example to 512) if cold starts show in the API's p99 latency more than "
            "the doubled GB-second price matters; AWS Lambda Power Tuning measures the trade-off on the deployed "
            "function."
        ),
        "",
    ]


def render(results: Results) -> str:
    machine_rows = [_row(["what", "value"]), _row(["---", "---"])] + [
        _row([key, value]) for key, value in results.machine.items()
    ]
    lines = [
        "# Performance",
        "",
        (
            "Generated by `make bench` (`bench/`): do not edit by hand; change `bench/report.py` and run `make bench` "
            "again. Every figure below was measured in that one run; min / median / max unless said otherwise."
        ),
        "",
        f"Command: `make bench`, which runs `{results.command}` with the project's virtualenv.",
        "",
        "## Budgets",
        "",
        *_verdict_table(results.verdicts()),
        "",
        "## Machine",
        "",
        *machine_rows,
        "",
        *_coldstart_section(results),
        *_warm_section(results),
        *_package_synth_tests(results),
        *_prompt_section(results),
        *_files_section(results),
        *_memory_section(results),
    ]
    return "\n".join(lines).rstrip() + "\n"
