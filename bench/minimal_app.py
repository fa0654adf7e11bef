"""The least CDK app with the same shape as ours: one Lambda function from inline code behind one REST API method.

No cdk-nag, no monitoring stack, no catalog, no asset: the synth benchmark runs it like ``app.py`` (same
interpreter, same CLI context) so that the difference is what our app adds at synth time.
"""

from __future__ import annotations

from aws_cdk import App, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_

HANDLER = """
def lambda_handler(event, context):
    return {"statusCode": 200, "body": "{}"}
"""


def build_app() -> App:
    app = App()
    stack = Stack(app, "MinimalApi")
    function = lambda_.Function(
        stack,
        "Function",
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        handler="index.lambda_handler",
        code=lambda_.Code.from_inline(HANDLER),
    )
    api = apigw.RestApi(stack, "Api")
    api.root.add_method("POST", apigw.LambdaIntegration(function))
    return app


if __name__ == "__main__":
    build_app().synth()
