"""Synthesize the app in-process (no AWS account, no CDK CLI) and read back the cloud assembly it writes.

``make review`` and ``make diagram`` synthesize with cdk.json's context (plus ``-c key=value`` overrides for the
review), exactly as the tests do (tests/conftest.py); cdk-nag runs as part of synth and writes its report into the
assembly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.config import cdk_json_context

ROOT = Path(__file__).resolve().parent.parent
__all__ = ["ROOT", "Assembly", "cdk_json_context", "load", "parse_overrides", "synthesize"]


def parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """``key=value`` pairs as the CDK CLI's ``-c`` takes them: values stay strings (the config parses them)."""
    overrides = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise ValueError(f"expected key=value, got {pair!r}")
        overrides[key] = value
    return overrides


@dataclass(frozen=True)
class Assembly:
    directory: Path
    templates: dict[str, dict[str, Any]]  # stack name -> template
    template_files: dict[str, Path]  # stack name -> its template file
    logical_ids: dict[str, str]  # construct path ("Stack/Construct/Resource") -> logical id
    nag: dict[str, Any]  # cdk-nag's AwsSolutions plugin report ({} when absent)


def synthesize(context: Mapping[str, Any], outdir: Path) -> Assembly:
    """Build the app with ``context`` and write its cloud assembly to ``outdir``; cdk-nag findings stop it."""
    from app import build_app

    build_app(context=dict(context), outdir=str(outdir)).synth()
    return load(outdir)


def load(directory: Path) -> Assembly:
    """Read a cloud assembly: the stacks' templates, their construct paths and cdk-nag's report."""
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    templates: dict[str, dict[str, Any]] = {}
    files: dict[str, Path] = {}
    logical_ids: dict[str, str] = {}
    for artifact_id, artifact in sorted(manifest.get("artifacts", {}).items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        name = artifact.get("displayName", artifact_id)
        files[name] = directory / artifact["properties"]["templateFile"]
        templates[name] = json.loads(files[name].read_text(encoding="utf-8"))
        metadata = dict(artifact.get("metadata") or {})
        if artifact.get("additionalMetadataFile"):
            metadata.update(json.loads((directory / artifact["additionalMetadataFile"]).read_text(encoding="utf-8")))
        for path, entries in metadata.items():
            for entry in entries:
                if entry.get("type") == "aws:cdk:logicalId":
                    logical_ids[path.lstrip("/")] = entry["data"]
    nag: dict[str, Any] = {}
    report = directory / "validation-report.json"
    if report.exists():
        plugins = json.loads(report.read_text(encoding="utf-8")).get("pluginReports", [])
        nag = next((plugin for plugin in plugins if plugin.get("pluginName") == "AwsSolutions"), {})
    return Assembly(directory, templates, files, logical_ids, nag)
