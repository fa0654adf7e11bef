#!/usr/bin/env python3
"""The CDK app. The only place that reads CDK context: it builds the frozen config and creates the stacks.

    make synth                                   # no AWS account or credentials needed
    npx cdk synth -c lambdaMemoryMb=512          # any shell: no virtualenv to activate (see below)
    .venv/bin/python app.py                      # what an IDE runs: cdk.json's context, as the CLI would pass it

``npx cdk ...`` runs ``python3 app.py`` (cdk.json) with the first ``python3`` on PATH, which in a fresh shell is not
the project's virtualenv: the app then runs itself again under ``.venv/bin/python`` (made by ``make synth``). A bad
context value stops it with one line that names the key and what it allows.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Before anything needs the CDK: this part runs on any Python 3 (it only decides which interpreter runs the app).
ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
MIN_PYTHON = (3, 11)
_REEXEC = "GENAI_REFERENCE_APP_REEXEC"  # set for the second run, so that a broken virtualenv cannot loop


def missing_requirement() -> str | None:
    """Why this interpreter cannot run the app (too old, or no CDK installed), or None when it can."""
    import importlib.util

    if sys.version_info < MIN_PYTHON:
        return f"Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed (this is {sys.version.split()[0]})"
    if importlib.util.find_spec("aws_cdk") is None:
        return f"the AWS CDK (aws-cdk-lib) is not installed for {sys.executable}"
    return None


def use_the_virtualenv(venv: Path = VENV) -> None:
    """Run the app under ``venv``'s Python when this one cannot run it; stop with one line when that is impossible."""
    problem = missing_requirement()
    if problem is None:
        return
    python = venv / "bin" / "python"
    in_venv = Path(sys.prefix).resolve() == venv.resolve()
    if python.exists() and not in_venv and not os.environ.get(_REEXEC):
        os.environ[_REEXEC] = "1"
        os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])
    where = "the virtualenv .venv cannot run the app" if python.exists() else "there is no virtualenv at .venv yet"
    sys.exit(f"app.py: {problem}, and {where}: run `make synth` first (it creates .venv and installs requirements.txt)")


if __name__ == "__main__":
    use_the_virtualenv()

from collections.abc import Mapping  # noqa: E402
from typing import Any  # noqa: E402

from aws_cdk import App, Environment, Validations  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

import stacks  # noqa: E402, F401  (first: it puts the function's folder, lambda/genai_api, on the import path)
from genai_core.catalog import load_catalog  # noqa: E402
from stacks.api_stack import GenAiApiStack  # noqa: E402
from stacks.config import CONTEXT_KEYS, AppConfig, ConfigError, cdk_json_context, load_config  # noqa: E402
from stacks.monitoring_stack import GenAiMonitoringStack  # noqa: E402


def read_config(app: App) -> AppConfig:
    return load_config({key: app.node.try_get_context(key) for key in CONTEXT_KEYS})


def build_app(context: Mapping[str, Any] | None = None, outdir: str | None = None) -> App:
    """Create the app with ``context`` as its defaults: the CDK CLI's context (cdk.json, cdk.context.json, ``-c``),
    when it runs the app, overrides them key by key. Tests pass cdk.json's context here explicitly."""
    app = App(context=dict(context) if context is not None else None, outdir=outdir)
    config = read_config(app)
    env = Environment(account=config.account, region=config.region) if config.account or config.region else None
    # The function's own catalog (lambda/genai_api, on the path: stacks/__init__.py). A task that searches the
    # knowledge base gets a route only where the stack has one, so it is never served half-working.
    routes = list(load_catalog().served(knowledge_base=config.knowledge_base.enabled))
    api = GenAiApiStack(
        app,
        config.api_stack_name,
        config=config,
        routes=routes,
        env=env,
        description="Generative AI reference architecture: REST API + Lambda + Amazon Bedrock (Converse)",
    )
    # cdk-nag 3.x runs as a CDK policy-validation plugin: any unacknowledged finding stops synth.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    # Separate, so that monitoring can be deployed, replaced or removed on its own; fed by the API stack's outputs.
    GenAiMonitoringStack(
        app,
        config.monitoring_stack_name,
        config=config,
        routes=routes,
        stage=api.rest_api.api.deployment_stage,
        function=api.handler.function,
        stream_function=api.stream_handler.function if api.stream_handler is not None else None,
        env=env,
        description="Generative AI reference architecture: dashboard and alarms of the API",
    )
    return app


def main() -> int:
    """Synthesize with cdk.json's context underneath whatever the CLI passes (``python app.py`` alone gets none from
    the CDK: ``App()`` reads cdk.json only through the CLI). A bad value is one line on stderr, exit status 1."""
    try:
        build_app(context=cdk_json_context()).synth()
    except ConfigError as error:
        print(f"app.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
