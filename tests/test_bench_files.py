"""bench/files.py runs on tiny counts and returns well-formed figures with the one budgeted figure and its verdict.
Nothing here asserts a duration (to fold into tests/test_bench.py when bench/__main__.py adopts the benchmark)."""

from __future__ import annotations

from bench import files as bench_files


def test_the_files_benchmark_measures_each_part_and_judges_one_figure():
    figures = bench_files.measure(repeats=1, size=64 * 1024)
    assert [figure.in_budget for figure in figures].count(True) == 1
    assert all(figure.summary.n >= 1 and figure.summary.min >= 0 for figure in figures)
    (verdict,) = bench_files.verdicts(figures)
    assert verdict.limit == bench_files.BUDGET_MS
    assert verdict.measured == next(figure.summary.min for figure in figures if figure.in_budget)
