#!/usr/bin/env python3
"""The CDK app. The only place that reads CDK context: it builds the frozen config and creates the stacks.

make synth                      # no AWS account or credentials needed
npx cdk synth -c region=us-east-1 -c account=123456789012   # pin an environment
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from stacks.api_stack import GenAiApiStack
from stacks.catalog import load_routes
from stacks.config import CONTEXT_KEYS, AppConfig, load_config
from stacks.monitoring_stack import GenAiMonitoringStack


def read_config(app: App) -> AppConfig:
    return load_config({key: app.node.try_get_context(key) for key in CONTEXT_KEYS})


def build_app(context: Mapping[str, Any] | None = None, outdir: str | None = None) -> App:
    """Create the app. The CDK CLI passes cdk.json's context itself; tests pass the same values in ``context``."""
    app = App(context=dict(context) if context is not None else None, outdir=outdir)
    config = read_config(app)
    env = Environment(account=config.account, region=config.region) if config.account or config.region else None
    routes = load_routes()
    api = GenAiApiStack(
        app,
        f"{config.stack_name}Api",
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
        f"{config.stack_name}Monitoring",
        config=config,
        routes=routes,
        stage=api.rest_api.api.deployment_stage,
        function=api.handler.function,
        stream_function=api.stream_handler.function if api.stream_handler is not None else None,
        env=env,
        description="Generative AI reference architecture: dashboard and alarms of the API",
    )
    return app


if __name__ == "__main__":
    build_app().synth()
