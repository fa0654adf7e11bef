"""The benchmarks behind `make bench` work: each runs on tiny counts and returns well-formed results, the verdicts
can fail, and the report renders every figure. Nothing here asserts a duration: budgets live in `make bench`."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from bench import coldstart, prompt_size, report, synth, testtime, warm
from bench import files as files_bench
from bench.common import Summary, Verdict, percentile


def test_summaries_percentiles_and_verdicts():
    assert Summary.of([3.0, 1.0, 2.0]) == Summary(3, 1.0, 2.0, 3.0)
    assert percentile(list(range(1, 101)), 0.50) == 50
    assert percentile(list(range(1, 101)), 0.99) == 99
    assert percentile([7.0], 0.99) == 7.0
    assert Verdict("x", 1.3, 1.3, "x").passed
    assert not Verdict("x", 1.31, 1.3, "x").passed  # a budget can fail
    assert Verdict("x", 2.0, 1.0, "ms").line().startswith("FAIL")


@pytest.fixture(scope="module")
def cold() -> coldstart.ColdStart:
    return coldstart.measure(1, breakdown=False)


def test_cold_start_runs_fresh_interpreters_of_the_handler_and_the_floor(cold):
    assert set(cold.cpu_ms) == set(coldstart.PAYLOADS)
    for kind, summary in cold.cpu_ms.items():
        assert summary.n == 1 and summary.min > 0, kind
        assert cold.max_rss_mb[kind].median > 0
    assert cold.ratio == cold.cpu_ms["handler"].median / cold.cpu_ms["floor"].median
    assert [verdict.limit for verdict in cold.verdicts()] == [coldstart.BUDGET_RATIO]


def test_each_row_of_the_breakdown_adds_to_the_row_before():
    rows = list(coldstart.BREAKDOWN)
    medians = {kind: Summary.of([100.0 + 10 * index]) for index, kind in enumerate(["floor", "handler", *rows])}
    breakdown = coldstart.ColdStart(1, medians, medians, medians, medians)
    assert breakdown.added_ms(rows[0]) is None and breakdown.added_ms("handler") is None
    assert [breakdown.added_ms(kind) for kind in rows[1:]] == [10.0] * (len(rows) - 1)
    for payload in coldstart.BREAKDOWN.values():  # each row runs with the collector paused, as the handler's init
        assert payload.startswith(coldstart.GC_PAUSED)


def test_the_ratios_bootstrap_interval_holds_the_ratio_and_narrows_with_less_noise():
    def cold_with(handler: list[float], floor: list[float]) -> coldstart.ColdStart:
        runs = {"handler": handler, "floor": floor}
        summaries = {kind: Summary.of(values) for kind, values in runs.items()}
        return coldstart.ColdStart(
            len(handler), summaries, summaries, summaries, summaries, {k: tuple(v) for k, v in runs.items()}
        )

    noisy = cold_with([120.0 + 40 * (i % 5) for i in range(21)], [100.0 + 30 * (i % 7) for i in range(21)])
    low, high = noisy.ratio_interval() or (0.0, 0.0)
    assert low <= noisy.ratio <= high and high - low > 0.05
    quiet = cold_with([130.0 + (i % 3) for i in range(21)], [100.0 + (i % 3) for i in range(21)])
    quiet_low, quiet_high = quiet.ratio_interval() or (0.0, 0.0)
    assert quiet_low <= quiet.ratio <= quiet_high and quiet_high - quiet_low < (high - low) / 5
    assert noisy.ratio_interval() == noisy.ratio_interval()  # a fixed seed
    assert coldstart.ColdStart(1, {}, {}, {}, {}).ratio_interval() is None


def test_the_cold_start_child_reports_a_failed_import():
    with pytest.raises(RuntimeError, match="cold start failed"):
        coldstart.run_once("import no_such_module_anywhere\n", Path.cwd())


def test_warm_drives_both_handlers_and_restores_the_client(handler):
    converse = handler.bedrock_client.converse
    results = warm.measure(3, warmup=1)

    assert [result.task for result in results] == list(warm.TASKS)
    for result in results:
        assert result.requests == 3
        assert 0 < result.minimal.p50_ms <= result.minimal.max_ms
        assert 0 < result.ours.p50_ms <= result.ours.p99_ms <= result.ours.max_ms
        assert result.overhead_p50_ms == result.ours.p50_ms - result.minimal.p50_ms
        assert len(result.verdicts()) == 2
        assert warm.TaskResult.from_dict(dataclasses.asdict(result)) == result
    assert handler.bedrock_client.converse == converse  # the stub is gone


@pytest.fixture(scope="module")
def prompts(handler) -> prompt_size.PromptSize:
    return prompt_size.measure(1, limit=8 * 1024)


def test_prompt_size_measures_a_valid_worst_body_of_each_route(prompts, handler):
    assert sorted({route.route for route in prompts.routes}) == sorted(u.path for u in handler.catalog)
    for route in prompts.routes:
        assert 0 < route.body_bytes <= prompts.limit, route
        assert route.prompt_bytes > 0 and route.cpu_ms.n == 1 and route.cpu_ms.min > 0
        assert route.ratio == route.prompt_bytes / route.body_bytes
        assert prompt_size.RouteFigure.from_dict(dataclasses.asdict(route)) == route
    records = {r.filler: r for r in prompts.routes if r.route == "/process-optimization/detect-anomalies"}
    assert set(records) == set(prompt_size.FILLERS)  # a route with free-form objects: one body per filler
    from genai_core.jsonbody import MAX_JSON_DEPTH

    assert records["nesting"].depth == MAX_JSON_DEPTH  # the deepest nesting the parser accepts
    assert [verdict.limit for verdict in prompts.verdicts()] == [prompt_size.BUDGET_RATIO, prompt_size.BUDGET_CPU_MS]


def test_prompt_size_verdicts_can_fail():
    route = prompt_size.RouteFigure("/x/y", 100, 300, 1, "", Summary.of([80.0]))
    assert [verdict.passed for verdict in prompt_size.PromptSize(1, 100, [route]).verdicts()] == [False, False]


def test_the_worst_body_maker_reaches_every_maximum_at_full_scale(handler):
    """At scale 1, before it is scaled to the body limit: strings at their maxLength, lists at their maxItems."""
    for use_case in handler.catalog:
        body = prompt_size.BodyMaker(use_case, prompt_size.Shape(1.0, 3, 1_000)).body()
        for name, rules in use_case.input_schema["properties"].items():
            if name in use_case.caller_schemas or name in ("language", "files") or "enum" in rules:
                continue  # files are not prompt text (bench/files.py)
            if rules["type"] == "string":
                assert len(body[name]) == rules["maxLength"], (use_case.id, name)
            elif rules["type"] == "array" and use_case.prompt.get("conversation") != name:
                assert len(body[name]) == rules["maxItems"], (use_case.id, name)


def test_the_minimal_app_synthesizes_as_the_cli_runs_it(tmp_path):
    assert synth.synth_once(synth.APPS["minimal"], tmp_path) > 0
    assert (tmp_path / "MinimalApi.template.json").exists() and (tmp_path / "manifest.json").exists()
    with pytest.raises(RuntimeError):
        synth.synth_once(["-c", "raise SystemExit(3)"], tmp_path)


def test_the_package_is_the_function_asset_of_the_synthesized_app(assembly):
    package = synth.measure_package(Path(assembly.directory))
    assert package.asset.startswith("asset.")
    assert package.files >= 12  # handler, telemetry, init_gc, genai_core's modules, the catalog's files
    assert 0 < package.zipped_bytes < package.unzipped_bytes


def test_the_function_zip_is_deterministic(tmp_path):
    source = tmp_path / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "a.py").write_text("print('a')\n" * 50)
    (source / "pkg" / "b.json").write_text('{"b": 1}')
    first = synth.zip_directory(source, tmp_path / "one.zip")
    second = synth.zip_directory(source, tmp_path / "two.zip")
    assert first.files == 2
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    assert second.zipped_bytes == first.zipped_bytes


PYTEST_OUTPUT = """\
============================= slowest 3 durations ==============================
5.21s setup    tests/test_infrastructure.py::test_the_function_is_arm64
0.40s call     tests/test_fuzz.py::test_any_body[/productivity/ask]
0.01s teardown tests/test_handler.py::test_one
============================= 584 passed in 22.79s =============================
"""


def test_test_time_reads_pytests_durations_and_summary():
    command = [sys.executable, "-c", f"print({PYTEST_OUTPUT!r})"]
    result = testtime.measure_tests(2, command=command)

    assert result.wall_s.n == 2
    assert result.summary == "584 passed in 22.79s"
    assert [(slow.seconds, slow.phase) for slow in result.slowest] == [
        (5.21, "setup"),
        (0.40, "call"),
        (0.01, "teardown"),
    ]
    assert result.slowest[1].test == "tests/test_fuzz.py::test_any_body[/productivity/ask]"
    with pytest.raises(RuntimeError):
        testtime.measure_tests(1, command=[sys.executable, "-c", "raise SystemExit(1)"])


@pytest.fixture(scope="module")
def file_figures() -> files_bench.FilesResult:
    return files_bench.measure(repeats=1, size=64 * 1024)


def test_the_files_benchmark_measures_each_part_and_judges_two_figures(file_figures):
    in_budget = [figure for figure in file_figures.figures if figure.in_budget]
    assert [figure.name.split(" ")[0] for figure in in_budget] == ["files.resolve:", "our"]  # the check; its added cost
    assert all(figure.summary.n >= 1 and figure.summary.min >= 0 for figure in file_figures.figures)
    verdicts = file_figures.verdicts()
    assert [verdict.limit for verdict in verdicts] == [files_bench.BUDGET_MS] * 2
    assert [verdict.measured for verdict in verdicts] == [figure.summary.min for figure in in_budget]
    assert files_bench.FilesResult.from_dict(dataclasses.asdict(file_figures)) == file_figures  # the child's JSON


def test_the_report_shows_every_figure_and_verdict(cold, prompts, file_figures):
    task = warm.TaskResult(
        "text (productivity/summarize)", 3, *[warm.Latency(0.2, 0.3, 0.4)] * 2, *[warm.Latency(0.2, 0.3, 5.0)] * 2
    )
    results = report.Results(
        machine=report.machine(),
        command="python -m bench",
        baseline="95a26a5",
        coldstart=cold,
        warm=[task],
        warm_baseline=[task],
        synth=synth.Synth(1, {"app.py": Summary.of([4.0]), "minimal": Summary.of([2.5])}),
        package=synth.Package("asset.abc", 23, 300_000, 200_000),  # over its budget
        tests=testtime.TestTime(
            1, Summary.of([30.0]), "584 passed in 22.79s", [testtime.SlowTest(5.2, "setup", "t::a")]
        ),
        prompt_size=prompts,
        compile_ms=report.compile_ms(repeats=1),
        files=file_figures,
    )
    text = report.render(results)

    for verdict in results.verdicts():
        assert verdict.name in text
    assert text.count("**PASS**") + text.count("**FAIL**") == len(results.verdicts())
    assert "**PASS**" in text and "**FAIL**" in text  # 30 s of tests pass; a 195 KB package does not
    for key in ("CPU", "cores", "Python", "OS"):
        assert f"| {key} |" in text
    assert "`t::a`" in text and "asset.abc" in text and "95a26a5" in text
    assert "## 6. Prompt size" in text and "## 7. Files" in text
    for figure in file_figures.figures:
        assert figure.name.strip() in text and figure.name in report.figures(results)
    for route in prompts.routes:
        assert f"`{route.route}`" in text and route.label in report.figures(results)

    # With the breakdown: each row's cost, and the handler against the botocore-only floor (what the function does).
    rows = list(coldstart.BREAKDOWN)
    medians = dict(zip(["floor", "handler", *rows], [200.0, 250.0, 180.0, 160.0, 175.0, 185.0, 200.0], strict=True))
    summaries = {kind: Summary.of([median]) for kind, median in medians.items()}
    broken_down = report.render(
        dataclasses.replace(results, coldstart=coldstart.ColdStart(1, summaries, summaries, summaries, summaries))
    )
    assert f"| {rows[1]} (-20.0 ms) |" in broken_down and f"| {rows[2]} (+15.0 ms) |" in broken_down
    assert "botocore alone, as the function makes it" in broken_down and "20.0 ms less than the floor" in broken_down
    assert "against the client from botocore alone with the collector paused 1.56×" in broken_down
    assert "our code, 50.0 ms" in broken_down
    assert "bootstrap of its runs" not in broken_down  # these made-up figures have no runs
    assert "bootstrap of its runs" in text  # the measured ones have
