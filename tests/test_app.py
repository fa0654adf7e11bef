"""app.py as a user runs it: ``npx cdk ...`` from a shell that has not activated the virtualenv, ``python app.py``
from an IDE, and a bad ``-c key=value``: one line naming the key, no traceback.

The CDK CLI runs ``python3 app.py`` with the context in ``CDK_CONTEXT_JSON`` and the output folder in
``CDK_OUTDIR``; these tests set the same two variables on a real interpreter, or call ``main()`` in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import app
from stacks.config import CONTEXT_KEYS, ConfigError, cdk_json_context, load_config
from tests.support import ROOT

DEFAULTS = cdk_json_context()


def run_app(*flags: str, context: dict[str, Any], outdir: Path) -> subprocess.CompletedProcess[str]:
    """``python [flags] app.py`` with the CLI's two variables, from the repository root, as the CLI starts it."""
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(outdir)}
    env.pop(app._REEXEC, None)
    return subprocess.run(
        [sys.executable, *flags, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="needs the project's .venv")
def test_an_interpreter_without_the_cdk_runs_the_app_again_under_the_virtualenv(tmp_path):
    # -S: no site-packages, so this Python has no aws_cdk, like the first python3 on PATH in a fresh shell.
    # The CLI's one key stops the app right after it has imported the CDK, so the message shows that the second run
    # had the CDK, that the CLI's value won over cdk.json's, and that cdk.json gave every other key (none is missing).
    result = run_app("-S", context={"lambdaMemoryMb": "abc"}, outdir=tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "app.py: context key 'lambdaMemoryMb' must be an integer from 128 to 10240, got 'abc'"
    )
    assert "Traceback" not in result.stderr


def test_without_a_virtualenv_it_says_to_run_make_synth(monkeypatch, tmp_path):
    monkeypatch.setattr(app, "missing_requirement", lambda: "the AWS CDK (aws-cdk-lib) is not installed for x")
    monkeypatch.setattr(app.os, "execv", lambda *_: pytest.fail("nothing to run again under"))

    with pytest.raises(SystemExit) as stopped:
        app.use_the_virtualenv(tmp_path / ".venv")

    assert str(stopped.value) == (
        "app.py: the AWS CDK (aws-cdk-lib) is not installed for x, and there is no virtualenv at .venv yet: "
        "run `make synth` first (it creates .venv and installs requirements.txt)"
    )


def test_it_runs_itself_again_under_the_virtualenvs_python_once(monkeypatch, tmp_path):
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    calls: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(app, "missing_requirement", lambda: "Python 3.11 or newer is needed (this is 3.10.12)")
    monkeypatch.setattr(app.os, "execv", lambda path, argv: calls.append((path, argv)))
    monkeypatch.setattr(app.sys, "argv", ["app.py", "--some", "flag"])
    monkeypatch.setenv(app._REEXEC, "")  # restored (unset) after the test

    with pytest.raises(SystemExit):  # execv is stubbed out: the function goes on to its message
        app.use_the_virtualenv(tmp_path / ".venv")
    assert calls == [(str(python), [str(python), str(Path(app.__file__).resolve()), "--some", "flag"])]
    assert os.environ[app._REEXEC] == "1"

    with pytest.raises(SystemExit) as stopped:  # the second run: the same problem is reported, not looped on
        app.use_the_virtualenv(tmp_path / ".venv")
    assert len(calls) == 1
    assert "the virtualenv .venv cannot run the app: run `make synth` first" in str(stopped.value)


def test_this_interpreter_can_run_the_app():
    assert app.missing_requirement() is None


def test_python_app_py_synthesizes_with_cdk_jsons_context(monkeypatch):
    built: list[dict[str, Any]] = []

    class Built:
        def synth(self) -> None:
            built.append({"synthesized": True})

    def build_app(context: dict[str, Any]) -> Built:
        built.append(context)
        return Built()

    monkeypatch.setattr(app, "build_app", build_app)

    assert app.main() == 0
    assert built == [DEFAULTS, {"synthesized": True}]


def test_a_bad_context_value_is_one_line_on_stderr_and_exit_status_1(monkeypatch, capsys):
    monkeypatch.setattr(app, "cdk_json_context", lambda: {**DEFAULTS, "models": "{bad"})

    assert app.main() == 1
    assert capsys.readouterr().err == "app.py: context key 'models' must be a JSON object, got '{bad'\n"


def test_a_broken_cdk_json_is_a_config_error(tmp_path):
    broken = tmp_path / "cdk.json"
    for text, message in [
        ('{"context": {"lambdaMemoryMb": 256,}}', "cdk.json is not valid JSON: Expecting property name"),
        ('{"context": {"lambdaMemoryMb": NaN}}', "cdk.json is not valid JSON: NaN is not JSON"),
        ('{"app": "python3 app.py"}', 'cdk.json has no "context" object'),
    ]:
        broken.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=message):
            cdk_json_context(broken)


# What `-c key=value` passes (a string), and what cdk.json may hold (any JSON value).
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
CLI_VALUES = st.text(max_size=40) | JSON_VALUES.map(json.dumps)


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(CONTEXT_KEYS), value=CLI_VALUES | JSON_VALUES)
@example(key="models", value={"\n": "x"})  # an unknown family's name, quoted in the message
@example(key="inferenceProfileRegions", value={"\n": []})  # a known geography's name, quoted in the message
def test_any_value_of_any_key_is_accepted_or_a_config_error(key, value):
    """main() turns a ConfigError into one line: nothing else may escape the loader, whatever the value (a name the
    caller gave, a key of an object among them, is quoted with repr, so that a newline in it stays on the line)."""
    try:
        load_config({**DEFAULTS, key: value})
    except ConfigError as error:
        assert "\n" not in str(error)


def test_building_the_app_imports_the_functions_pure_modules_but_never_boto3_or_powertools():
    """The stacks share facts with the function by importing its pure modules (stacks/__init__.py): building the
    app must not pull in boto3's client machinery, botocore or Powertools, which only the function's runtime has."""
    script = (
        "import sys, app; from stacks.config import cdk_json_context; app.build_app(context=cdk_json_context()); "
        "print(' '.join(sorted(sys.modules)))"
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}  # as `python app.py` runs
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )

    modules = set(result.stdout.split())
    assert {"genai_core.catalog", "genai_core.limits", "genai_core.settings", "caller", "endpoints"} <= modules
    assert not {module for module in modules if module.split(".")[0] in ("boto3", "botocore", "aws_lambda_powertools")}
    assert not {"genai_core.bedrock", "genai_core.service", "handler", "telemetry"} & modules
