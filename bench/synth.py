"""Synth time and package size.

Synth: ``python app.py`` for the whole app (both stacks, cdk-nag included) against ``bench/minimal_app.py``, each
run a new process given what ``cdk synth`` gives the app it starts: the context in ``CDK_CONTEXT_JSON`` (cdk.json's
``context`` plus the CLI's own defaults) and the output folder in ``CDK_OUTDIR``. Runs alternate; wall time.

Package: the function's asset as synthesized (its folder is the ``aws:asset:path`` metadata of the function in the
API stack's template), zipped as the CLI uploads it: deflate, files in sorted order with fixed dates, so the size
depends only on the content.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import CDK_CONTEXT, ROOT, Summary, Verdict
from tests.support import API_STACK

BUDGET_RATIO = 2.0
BUDGET_PACKAGE_KB = 100
APPS = {"app.py": ["app.py"], "minimal": ["bench/minimal_app.py"]}
# Not an app, for reference: starting Python and importing aws_cdk (which starts node through jsii).
JSII_ONLY = {'python -c "import aws_cdk"': ["-c", "import aws_cdk"]}
# What the CDK CLI adds to cdk.json's context before it starts the app (its defaults for `cdk synth`).
CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
    "aws:cdk:bundling-stacks": ["**"],
    "@aws-cdk/core:failSynthOnValidationErrors": False,
}
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Synth:
    runs: int
    wall_s: dict[str, Summary]

    @property
    def ratio(self) -> float:
        return self.wall_s["app.py"].median / self.wall_s["minimal"].median

    def verdicts(self) -> list[Verdict]:
        return [Verdict("synth, app.py / minimal app (median wall time)", self.ratio, BUDGET_RATIO, "x")]


@dataclass(frozen=True)
class Package:
    asset: str
    files: int
    unzipped_bytes: int
    zipped_bytes: int

    def verdicts(self) -> list[Verdict]:
        return [Verdict("package, the function's asset zipped", self.zipped_bytes / 1024, BUDGET_PACKAGE_KB, "KB")]


def synth_env(outdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "CDK_CONTEXT_JSON": json.dumps({**CDK_CONTEXT, **CLI_CONTEXT}),
            "CDK_OUTDIR": str(outdir),
            "CDK_DISABLE_CLI_TELEMETRY": "true",
        }
    )
    return env


def synth_once(arguments: list[str], outdir: Path, python: str = os.path.abspath(sys.executable)) -> float:
    """Run one app (``python <arguments>``) as `cdk synth` does; its wall time in seconds."""
    started = time.perf_counter()
    completed = subprocess.run(
        [python, *arguments], cwd=ROOT, env=synth_env(outdir), capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{arguments} failed ({completed.returncode}): {completed.stderr[-2000:]}")
    return elapsed


def measure_synth(runs: int = 5, keep: Path | None = None) -> Synth:
    """``keep``: where the last run of app.py writes its cloud assembly (for the package measurement)."""
    apps = {**APPS, **JSII_ONLY}
    wall: dict[str, list[float]] = {name: [] for name in apps}
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as scratch:
        for index in range(runs):
            order = list(apps) if index % 2 == 0 else list(reversed(apps))
            for number, name in enumerate(order):
                last_app_run = name == "app.py" and index == runs - 1
                outdir = keep if (keep is not None and last_app_run) else Path(scratch) / f"{index}-{number}"
                wall[name].append(synth_once(apps[name], outdir))
    return Synth(runs, {name: Summary.of(values) for name, values in wall.items()})


def function_asset(assembly: Path, stack: str = API_STACK) -> Path:
    """The folder of the functions' code in the cloud assembly: its ``aws:asset:path`` metadata (the CLI's context
    asks for it), else the asset named by the code's S3 key (``<hash>.zip`` is staged as ``asset.<hash>``). The API's
    function and the streaming function share one asset; the CDK's own functions (the one that empties the uploads
    and corpus buckets on `cdk destroy`) are not ours to measure: only functions whose environment names the models count."""
    template: dict[str, Any] = json.loads((assembly / f"{stack}.template.json").read_text())
    paths = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        if "MODEL_IDS" not in resource["Properties"].get("Environment", {}).get("Variables", {}):
            continue
        key = resource["Properties"].get("Code", {}).get("S3Key")
        path = resource.get("Metadata", {}).get("aws:asset:path")
        if path is None and isinstance(key, str) and key.endswith(".zip"):
            path = f"asset.{key.removesuffix('.zip')}"
        if path is not None and (assembly / path).is_dir() and path not in paths:
            paths.append(path)
    if len(paths) != 1:
        raise RuntimeError(f"expected one function asset in {stack}, found {paths}")
    return assembly / paths[0]


def zip_directory(directory: Path, target: Path) -> Package:
    files = sorted(path for path in directory.rglob("*") if path.is_file())
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(directory).as_posix(), date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return Package(directory.name, len(files), sum(path.stat().st_size for path in files), target.stat().st_size)


def measure_package(assembly: Path) -> Package:
    with tempfile.TemporaryDirectory(prefix="bench-package-") as scratch:
        return zip_directory(function_asset(assembly), Path(scratch) / "function.zip")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="bench-cdk-out-") as kept:
        synth = measure_synth(int(sys.argv[1]) if len(sys.argv) > 1 else 5, keep=Path(kept))
        package = measure_package(Path(kept))
    for name, summary in synth.wall_s.items():
        print(f"{name:8} {summary.show('s', 2)}")
    print(package)
    for verdict in synth.verdicts() + package.verdicts():
        print(verdict.line())
