"""stacks/components/uploads_bucket.py: the uploads bucket and its grant, synthesized in a minimal stack (once per
session) with cdk.json's feature flags; template assertions for each promise, then cdk-nag (AwsSolutionsChecks, as
app.py registers it), cfn-lint and checkov on that template, clean with a reason for every exception.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from genai_core import file_contract, uploads
from stacks.components.auto_delete import AUTO_DELETE_PROVIDER
from stacks.components.uploads_bucket import UploadsBucket
from stacks.config import load_config
from stacks.function_env import uploads_environment
from tests.scanner_support import (
    MIN_REASON,
    assert_cfn_lint_clean,
    assert_skips_explained,
    checkov,
    checkov_outcome,
    nag_report,
)
from tests.support import CDK_CONTEXT, PRIVATE_BUCKET_PROPERTIES
from tests.test_config import context_values
from tools.scanners import run_cfn_lint

STACK = "UploadsBucketTest"
EXPIRATION_DAYS = 1
RETENTION_DAYS = 14
FLAGS = {key: value for key, value in CDK_CONTEXT.items() if key.startswith("@")}


def build(removal_policy: RemovalPolicy, outdir: str | None = None, *, grantee: str = "role") -> Any:
    app = App(context=FLAGS, outdir=outdir)
    stack = Stack(app, STACK)
    uploads_bucket = UploadsBucket(
        stack,
        "Uploads",
        prefix=file_contract.UPLOADS_PREFIX,
        expiration_days=EXPIRATION_DAYS,
        removal_policy=removal_policy,
        log_retention_days=RETENTION_DAYS,
    )
    role = iam.Role(stack, "FunctionRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    if grantee == "role":
        uploads_bucket.grant_uploads(role)
    else:
        function = lambda_.Function(
            stack,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
            role=role,
        )
        uploads_bucket.grant_uploads(function)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, uploads_bucket


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Any:
    app, _ = build(RemovalPolicy.DESTROY, str(tmp_path_factory.mktemp("cdk.out.uploads")))
    return app.synth()


@pytest.fixture(scope="session")
def template(sandbox: Any) -> Template:
    return Template.from_json(sandbox.get_stack_by_name(STACK).template)


@pytest.fixture(scope="session")
def template_file(sandbox: Any) -> str:
    return str(Path(sandbox.directory) / sandbox.get_stack_by_name(STACK).template_file)


@pytest.fixture(scope="session")
def production() -> Template:
    app, _ = build(RemovalPolicy.RETAIN)
    return Template.from_json(app.synth().get_stack_by_name(STACK).template)


def bucket_id(template: Template) -> str:
    (logical_id,) = template.find_resources("AWS::S3::Bucket")
    return logical_id


def policy_statements(template: Template) -> list[dict[str, Any]]:
    (policy,) = template.find_resources("AWS::S3::BucketPolicy").values()
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def everything(logical_id: str) -> list[Any]:
    """The bucket and its objects, as the CDK writes them in a policy's Resource."""
    arn = {"Fn::GetAtt": [logical_id, "Arn"]}
    return [arn, {"Fn::Join": ["", [arn, "/*"]]}]


# --- the bucket ------------------------------------------------------------------------------------------------


def test_all_public_access_is_blocked_and_acls_are_off(template):
    access = ("PublicAccessBlockConfiguration", "OwnershipControls")
    template.has_resource_properties("AWS::S3::Bucket", {key: PRIVATE_BUCKET_PROPERTIES[key] for key in access})


def test_objects_are_encrypted_with_s3_managed_keys(template):
    template.has_resource_properties(
        "AWS::S3::Bucket", {"BucketEncryption": PRIVATE_BUCKET_PROPERTIES["BucketEncryption"]}
    )


def test_the_policy_refuses_anything_without_tls_1_2(template):
    logical_id = bucket_id(template)
    statements = policy_statements(template)
    for condition in ({"Bool": {"aws:SecureTransport": "false"}}, {"NumericLessThan": {"s3:TlsVersion": 1.2}}):
        assert {
            "Action": "s3:*",
            "Condition": condition,
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": everything(logical_id),
        } in statements


def test_the_policy_refuses_uploads_not_signed_with_sigv4(template):
    statements = policy_statements(template)
    (deny,) = [s for s in statements if s.get("Sid") == "DenyUploadsNotSignedWithSigV4"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"} and deny["Action"] == "s3:PutObject"
    assert deny["Condition"] == {"StringNotEquals": {"s3:signatureversion": "AWS4-HMAC-SHA256"}}
    assert deny["Resource"] == everything(bucket_id(template))[1]


def test_objects_expire_after_the_configured_days_and_the_function_refuses_them_from_then(template):
    rules = template.find_resources("AWS::S3::Bucket")[bucket_id(template)]["Properties"]["LifecycleConfiguration"]
    assert rules == {
        "Rules": [
            {
                "Id": "ExpireUploads",
                "ExpirationInDays": EXPIRATION_DAYS,
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                "Status": "Enabled",
            }
        ]
    }
    # The function refuses an upload from the same age on, whatever S3's lag (the variables the stack sets).
    config = load_config(context_values(uploadsExpireDays=EXPIRATION_DAYS))
    settings = uploads.UploadSettings.from_env(uploads_environment(config, "a-bucket"))
    assert settings is not None and settings.max_age_seconds == EXPIRATION_DAYS * 86_400


def test_the_bucket_is_unversioned_and_has_no_cors(template):
    properties = template.find_resources("AWS::S3::Bucket")[bucket_id(template)]["Properties"]
    assert "VersioningConfiguration" not in properties
    assert "CorsConfiguration" not in properties


def test_sandbox_destroy_empties_and_deletes_the_bucket(template):
    template.has_resource("AWS::S3::Bucket", {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"})
    template.resource_count_is("Custom::S3AutoDeleteObjects", 1)
    template.has_resource_properties("Custom::S3AutoDeleteObjects", {"BucketName": {"Ref": bucket_id(template)}})


def test_the_auto_delete_function_logs_to_a_log_group_deleted_after_it(template):
    functions = template.find_resources("AWS::Lambda::Function")
    (handler,) = [value for key, value in functions.items() if key.startswith("CustomS3AutoDeleteObjects")]
    (log_group_id,) = template.find_resources("AWS::Logs::LogGroup")
    assert handler["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": log_group_id}}
    assert "DependsOn" not in handler  # its role's GetAtt already orders it (cfn-lint W3005)
    template.has_resource(
        "AWS::Logs::LogGroup", {"DeletionPolicy": "Delete", "Properties": {"RetentionInDays": RETENTION_DAYS}}
    )


def test_production_retains_the_bucket_without_a_custom_resource(production):
    production.has_resource("AWS::S3::Bucket", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
    production.resource_count_is("Custom::S3AutoDeleteObjects", 0)
    production.resource_count_is("AWS::Lambda::Function", 0)
    assert not any(key.startswith(AUTO_DELETE_PROVIDER.replace(":", "")) for key in production.to_json()["Resources"])


# --- the grant --------------------------------------------------------------------------------------------------


def grant_statements(template: Template) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_function_may_read_and_write_only_the_uploads_prefix(template):
    assert grant_statements(template) == [
        {
            "Sid": "ReadAndPresignUploads",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": {
                "Fn::Join": ["", [{"Fn::GetAtt": [bucket_id(template), "Arn"]}, f"/{file_contract.UPLOADS_PREFIX}*"]]
            },
        }
    ]


def test_a_functions_grant_lands_on_its_role_and_a_reader_gets_no_put():
    app, uploads_bucket = build(RemovalPolicy.RETAIN, grantee="function")
    stack = Stack.of(uploads_bucket)
    reader = iam.Role(stack, "StreamFunctionRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    uploads_bucket.grant_uploads(reader, presign=False)
    template = Template.from_json(app.synth().get_stack_by_name(STACK).template)
    statements = {s["Sid"]: s for s in grant_statements(template)}
    assert statements["ReadAndPresignUploads"]["Action"] == ["s3:GetObject", "s3:PutObject"]
    assert statements["ReadUploads"]["Action"] == "s3:GetObject"
    assert statements["ReadUploads"]["Resource"] == statements["ReadAndPresignUploads"]["Resource"]
    template.has_resource_properties(
        "AWS::IAM::Policy", {"Roles": [{"Ref": Match.string_like_regexp("^FunctionRole")}]}
    )


@pytest.mark.parametrize(("prefix", "days"), [("uploads", 1), ("uploads/*", 1), ("uploads/", 0)])
def test_a_bad_prefix_or_expiry_is_refused(prefix, days):
    with pytest.raises(ValueError):
        UploadsBucket(
            Stack(App(), "S"),
            "Uploads",
            prefix=prefix,
            expiration_days=days,
            removal_policy=RemovalPolicy.DESTROY,
            log_retention_days=RETENTION_DAYS,
        )


# --- the scanners ------------------------------------------------------------------------------------------------


def test_cdk_nag_passes_with_each_acknowledgment_explained_on_its_construct(sandbox, template):
    plugin = nag_report(sandbox)
    assert plugin["conclusion"] == "success"
    assert plugin["violations"] == []
    rules = {violation["ruleName"] for violation in plugin["suppressedViolations"]}
    prefix_wildcard = f"AwsSolutions-IAM5[Resource::<{bucket_id(template)}.Arn>/{file_contract.UPLOADS_PREFIX}*]"
    assert rules == {"AwsSolutions-S1", prefix_wildcard}
    for violation in plugin["suppressedViolations"]:
        assert len(violation["reason"]) >= MIN_REASON
        for construct in violation["violatingConstructs"]:
            assert construct["constructPath"] in (
                violation["acknowledgedAt"],
                f"{violation['acknowledgedAt']}/Resource",
            )


def test_cfn_lint_finds_nothing(template_file):
    assert_cfn_lint_clean(run_cfn_lint([template_file]))


def test_checkov_finds_nothing_unexplained(template_file):
    run = checkov([template_file])
    outcome = checkov_outcome(run)
    assert outcome.failed == []
    # encryption, public access
    assert {"CKV_AWS_19", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"} <= outcome.passed
    assert {c["check_id"] for c in outcome.skipped} == {
        "CKV_AWS_18",
        "CKV_AWS_21",
        "CKV_AWS_115",
        "CKV_AWS_116",
        "CKV_AWS_117",
        "CKV_AWS_158",
    }
    assert_skips_explained(outcome.skipped)
    assert run.returncode == 0
