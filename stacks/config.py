"""The app's configuration: frozen dataclasses, built once from CDK context by ``load_config``.

Facts the function shares (the families, the authorization modes, the Bedrock client's limits) come from its own
pure modules (``genai_core.catalog``, ``caller``, ``genai_core.limits``): one home for each.

Defaults live in ``cdk.json`` (``context``); override any key with ``cdk synth -c key=value`` (objects as JSON).
A bad value fails synth with a ``ConfigError`` that names the key and what it allows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import caller
from genai_core.caching import MODEL_ID
from genai_core.catalog import FAMILIES
from genai_core.file_contract import UPLOAD_URL_SECONDS_MAX, UPLOAD_URL_SECONDS_MIN
from genai_core.limits import (
    ANSWER_MARGIN_SECONDS,
    RETRIEVAL_CLIENT,
    STORAGE_CLIENT,
    ClientSettings,
    longest_call_seconds,
    search_and_one_attempt,
    shortest_function_timeout,
)

if TYPE_CHECKING:  # the CDK is imported only when a stack asks for a removal policy (make local needs no CDK)
    from aws_cdk import RemovalPolicy

    from stacks.conversations_config import ConversationsConfig
    from stacks.knowledge_base_config import KnowledgeBaseConfig


CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"

# The retentions CloudWatch Logs accepts for a log group, in days, and the CDK's name for each
# (aws_logs.RetentionDays, which stacks/components/log_groups.py looks up: the CDK is not imported here).
LOG_RETENTION: Mapping[int, str] = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}
LOG_RETENTION_DAYS = tuple(LOG_RETENTION)
MAX_INTEGRATION_TIMEOUT_SECONDS = 29  # API Gateway's default maximum for a REST integration
MAX_STREAM_SECONDS = 900  # API Gateway streams a response for at most 15 minutes; a Lambda function runs at most 15

# A foundation model id (amazon.nova-2-lite-v1:0) or a system-defined inference profile id (us.amazon.nova-2-lite-v1:0).
REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d$")
ACCOUNT = re.compile(r"^\d{12}$")
# A CloudWatch namespace: letters, digits and . - _ / # : (at most 255), not starting with the reserved "AWS/".
NAMESPACE = re.compile(r"^(?!AWS/)[A-Za-z0-9._/#:-]{1,255}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The two stacks are <stackName>Api and <stackName>Monitoring.
API_STACK_SUFFIX = "Api"
MONITORING_STACK_SUFFIX = "Monitoring"
# sandbox: `cdk destroy` removes everything, log groups included; production: log groups are retained.
PROFILES = ("sandbox", "production")


# Every context key the app reads (besides CDK's own feature flags).
CONTEXT_KEYS = (
    "stackName",
    "account",
    "region",
    "models",
    "inferenceProfileRegions",
    "bedrockConnectTimeoutSeconds",
    "bedrockReadTimeoutSeconds",
    "bedrockMaxAttempts",
    "lambdaMemoryMb",
    "lambdaTimeoutSeconds",
    "powertoolsLayerVersion",
    "lambdaWebAdapterLayerVersion",
    "streamFunctionTimeoutSeconds",
    "streamIntegrationTimeoutSeconds",
    "logRetentionDays",
    "stageName",
    "apiIntegrationTimeoutSeconds",
    "throttlingRateLimit",
    "throttlingBurstLimit",
    "authMode",
    "apiKeyQuotaPerDay",
    "createApiGatewayAccountRole",
    "enableWaf",
    "wafRateLimitPer5Minutes",
    "guardrailFilterStrength",
    "guardrailPromptAttackStrength",
    "guardrailPiiAction",
    "guardrailProfiles",
    "logPromptsForDebugging",
    "profile",
    "metricsNamespace",
    "alarmEmail",
    "alarm5xxRatePercent",
    "alarmP99LatencyMs",
    "modelPrices",
    "uploadsExpireDays",
    "uploadUrlSeconds",
    "filesFromS3",
    "conversations",
    "knowledgeBase",
)
AUTH_MODES = caller.AUTH_MODES  # "iam" (SigV4) or "api-key": which identity field names the caller (caller.py)
FILTER_STRENGTHS = ("NONE", "LOW", "MEDIUM", "HIGH")
PII_ACTIONS = ("ANONYMIZE", "BLOCK")
# The guardrail a family's Converse calls carry (stacks/components/guardrail.py builds each, ADR 0005 says why):
# "full", content filters on input and output, prompt attacks on input and sensitive information, for text that comes
# from end customers; "prompt-attack", prompt attacks on the caller's input only, for tasks whose data may be harsh
# or personal by nature (a complaint to classify, an invoice's e-mail to extract); "none".
GUARDRAIL_PROFILES = ("full", "prompt-attack", "none")


class ConfigError(ValueError):
    """A context value that synth cannot use."""


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """cdk.json's context: the project's defaults and the CDK feature flags (a fresh copy on each call).

    The CDK CLI passes it to the app itself; ``python app.py``, the tools and the tests read it here, because
    ``App()`` does not read cdk.json. Broken JSON is a ``ConfigError`` (Python's reader, unlike the CLI's, would
    take ``NaN`` and ``Infinity``)."""

    def not_json(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=not_json)
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise ConfigError(f"{path.name} is not valid JSON: {error}") from None
    context = data.get("context") if isinstance(data, dict) else None
    if not isinstance(context, dict):
        raise ConfigError(f'{path.name} has no "context" object')
    return context


@dataclass(frozen=True)
class ModelTarget:
    """What one configured id lets the function invoke: the id itself and, for a profile, where it routes."""

    model_id: str
    foundation_model: str
    profile_regions: tuple[str, ...] | None  # None: a foundation model invoked in the stack's own region

    @property
    def is_profile(self) -> bool:
        return self.profile_regions is not None


@dataclass(frozen=True)
class FunctionConfig:
    memory_mb: int
    timeout_seconds: int
    powertools_layer_version: int
    log_retention_days: int


@dataclass(frozen=True)
class StreamingConfig:
    """The streaming function (Lambda Web Adapter) and its STREAM integration: both may outlast the 29-second limit."""

    function_timeout_seconds: int
    integration_timeout_seconds: int
    web_adapter_layer_version: int


@dataclass(frozen=True)
class ApiConfig:
    stage_name: str
    integration_timeout_seconds: int
    throttling_rate_limit: int
    throttling_burst_limit: int
    auth_mode: str  # "iam" (SigV4, the default) or "api-key" (x-api-key header + usage plan)
    api_key_quota_per_day: int
    create_account_role: bool  # the account-level role API Gateway needs to write logs to CloudWatch
    enable_waf: bool
    waf_rate_limit_per_5_minutes: int
    log_retention_days: int


@dataclass(frozen=True)
class GuardrailConfig:
    filter_strength: str  # hate, insults, sexual, violence, misconduct (input and output; the "full" profile)
    prompt_attack_strength: str  # input only (both profiles)
    pii_action: str  # ANONYMIZE or BLOCK for e-mail, phone, card numbers and the Brazilian CPF ("full")
    profiles: Mapping[str, str]  # family -> its guardrail profile (GUARDRAIL_PROFILES)

    @property
    def families(self) -> tuple[str, ...]:
        """The families whose Converse calls carry a guardrail."""
        return tuple(family for family in FAMILIES if self.profiles[family] != "none")

    @property
    def profiles_in_use(self) -> tuple[str, ...]:
        """The guardrails the stack creates: one per profile some family uses."""
        return tuple(profile for profile in GUARDRAIL_PROFILES[:-1] if profile in self.profiles.values())


@dataclass(frozen=True)
class UploadsConfig:
    """The uploads bucket (``stacks/components/uploads_bucket.py``) and how the function uses it."""

    expire_days: int  # the lifecycle rule's days; the function refuses an upload older than that many days itself
    url_seconds: int  # how long the presigned PUT that POST /uploads answers is valid
    files_from_s3: bool  # uploads reach the model as s3Location (the model reads S3) instead of bytes

    @property
    def max_age_seconds(self) -> int:
        return self.expire_days * 86_400


@dataclass(frozen=True)
class ModelPrice:
    """On-demand price of a model in US dollars per 1,000 tokens. Config, not truth: check the Bedrock price list."""

    input_per_1k_tokens: float
    output_per_1k_tokens: float


@dataclass(frozen=True)
class MonitoringConfig:
    metrics_namespace: str  # the function's POWERTOOLS_METRICS_NAMESPACE; the dashboard and alarms read it
    alarm_email: str | None  # optional e-mail subscription to the alarm topic
    alarm_5xx_rate_percent: float  # API 5xx responses as a percentage of requests, per 5 minutes
    alarm_p99_latency_ms: int  # API p99 latency, per 5 minutes
    prices: Mapping[str, ModelPrice]  # configured model id -> its price (for the dashboard's cost estimate)


@dataclass(frozen=True)
class AppConfig:
    stack_name: str
    account: str | None
    region: str | None
    models: Mapping[str, ModelTarget]  # family -> target
    bedrock: ClientSettings  # the function's Bedrock client (genai_core/limits.py: one home for both sides)
    function: FunctionConfig
    streaming: StreamingConfig
    api: ApiConfig
    guardrail: GuardrailConfig
    log_prompts_for_debugging: bool
    profile: str  # "sandbox" or "production"
    monitoring: MonitoringConfig
    uploads: UploadsConfig
    knowledge_base: KnowledgeBaseConfig  # stacks/knowledge_base_config.py: on by default, -c knowledgeBase=false
    conversations: ConversationsConfig  # stacks/conversations_config.py: on by default, -c conversations=false

    @property
    def api_stack_name(self) -> str:
        return self.stack_name + API_STACK_SUFFIX

    @property
    def monitoring_stack_name(self) -> str:
        return self.stack_name + MONITORING_STACK_SUFFIX

    @property
    def retain_logs(self) -> bool:
        """Whether log groups outlive the stack: only in the production profile."""
        return self.profile == "production"

    @property
    def log_removal_policy(self) -> RemovalPolicy:
        """The removal policy of every log group the app creates (sandbox: DESTROY; production: RETAIN)."""
        from aws_cdk import RemovalPolicy

        return RemovalPolicy.RETAIN if self.retain_logs else RemovalPolicy.DESTROY

    @property
    def data_removal_policy(self) -> RemovalPolicy:
        """The removal policy of the data the app keeps (the uploads bucket, the knowledge base's corpus bucket, the
        conversation table): as the logs', by the profile. Sandbox: deleted with the stack (a custom resource empties
        each bucket first). Production: retained like the log groups, with no function that deletes objects in the
        account; the uploads bucket's lifecycle rule empties it within days, and an empty bucket costs nothing."""
        return self.log_removal_policy


class _Context:
    """Typed reads of context values with errors that name the key."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def raw(self, key: str) -> Any:
        if self.values.get(key) is None:
            raise ConfigError(f"context key {key!r} is missing (set it in cdk.json or with -c {key}=...)")
        return self.values[key]

    def json_object(self, key: str) -> dict[str, Any]:
        value = self.raw(key)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ConfigError(f"context key {key!r} must be a JSON object, got {value!r}") from None
        if not isinstance(value, dict):
            raise ConfigError(f"context key {key!r} must be an object, got {value!r}")
        return value

    def integer(self, key: str, low: int, high: int) -> int:
        value = self.raw(key)
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"context key {key!r} must be an integer from {low} to {high}, got {value!r}") from None
        if isinstance(value, bool) or str(number) != str(value).strip() or not low <= number <= high:
            raise ConfigError(f"context key {key!r} must be an integer from {low} to {high}, got {value!r}")
        return number

    def choice(self, key: str, allowed: tuple[int, ...]) -> int:
        value = self.raw(key)
        if str(value).strip() not in {str(option) for option in allowed}:
            shown = ", ".join(str(option) for option in allowed)
            raise ConfigError(f"context key {key!r} must be one of {shown}; got {value!r}")
        return int(value)

    def boolean(self, key: str) -> bool:
        value = self.raw(key)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ConfigError(f"context key {key!r} must be true or false, got {value!r}")

    def number(self, key: str, low: float, high: float) -> float:
        """A number greater than ``low`` and at most ``high``."""
        value = self.raw(key)
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if isinstance(value, bool) or not low < number <= high:
            raise ConfigError(
                f"context key {key!r} must be a number greater than {low:g} and at most {high:g}, got {value!r}"
            )
        return number

    def one_of(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.raw(key)
        if value not in allowed:
            raise ConfigError(f"context key {key!r} must be one of {', '.join(allowed)}; got {value!r}")
        return str(value)

    def per_family(self, key: str, allowed: tuple[str, ...]) -> dict[str, str]:
        """An object that gives every family one of ``allowed``, and names nothing else."""
        value = self.json_object(key)
        if set(value) != set(FAMILIES) or any(choice not in allowed for choice in value.values()):
            raise ConfigError(
                f"context key {key!r} must give each of the families {', '.join(FAMILIES)} one of "
                f"{', '.join(allowed)}; got {value!r}"
            )
        return {family: str(value[family]) for family in FAMILIES}

    def optional(self, key: str, pattern: re.Pattern[str], what: str) -> str | None:
        value = self.values.get(key)
        if value in (None, ""):
            return None
        if not isinstance(value, str) or not pattern.match(value):
            raise ConfigError(f"context key {key!r} must be {what}, got {value!r}")
        return value

    def name(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,63}", value):
            raise ConfigError(
                f"context key {key!r} must be letters, digits and hyphens, starting with a letter; got {value!r}"
            )
        return value


def _model_targets(ctx: _Context) -> dict[str, ModelTarget]:
    models = ctx.json_object("models")
    unknown = sorted(set(models) - set(FAMILIES))
    missing = [family for family in FAMILIES if family not in models]
    if unknown or missing:
        raise ConfigError(
            f"context key 'models' must name a model for exactly these families: {', '.join(FAMILIES)}"
            f" (missing: {', '.join(missing) or 'none'}; unknown: {', '.join(map(repr, unknown)) or 'none'})"
        )
    routing = ctx.json_object("inferenceProfileRegions")
    targets: dict[str, ModelTarget] = {}
    for family in FAMILIES:
        model_id = models[family]
        match = MODEL_ID.match(model_id) if isinstance(model_id, str) else None
        if not match:
            raise ConfigError(
                f"context key 'models' has {family}={model_id!r}; expected a Bedrock model id such as "
                "'amazon.nova-2-lite-v1:0' or an inference profile id such as 'us.amazon.nova-2-lite-v1:0'"
            )
        geo = match.group("geo")
        if geo is None:
            targets[family] = ModelTarget(model_id, model_id, None)
            continue
        regions = routing.get(geo)
        if not isinstance(regions, list) or not regions or not all(isinstance(r, str) for r in regions):
            raise ConfigError(
                f"context key 'models' has {family}={model_id!r}, a {geo!r} inference profile, but "
                f"'inferenceProfileRegions' has no region list for {geo!r} (known: {', '.join(map(repr, sorted(routing))) or 'none'})"
            )
        bad = [region for region in regions if region != "*" and not REGION.match(region)]
        if bad:
            raise ConfigError(f"context key 'inferenceProfileRegions' has invalid regions for {geo!r}: {bad}")
        targets[family] = ModelTarget(model_id, match.group("model"), tuple(regions))
    return targets


def _model_prices(ctx: _Context, targets: Mapping[str, ModelTarget]) -> dict[str, ModelPrice]:
    """The price of every configured model: looked up by its id, then by its foundation model id."""
    table = ctx.json_object("modelPrices")
    prices: dict[str, ModelPrice] = {}
    for target in targets.values():
        key = target.model_id if target.model_id in table else target.foundation_model
        entry = table.get(key)
        if not isinstance(entry, dict):
            raise ConfigError(
                f"context key 'modelPrices' has no price for {target.model_id!r} (add {target.foundation_model!r}: "
                '{"inputPer1kTokens": ..., "outputPer1kTokens": ...} in US dollars per 1,000 tokens)'
            )
        values = []
        for field in ("inputPer1kTokens", "outputPer1kTokens"):
            value = entry.get(field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1000:
                raise ConfigError(
                    f"context key 'modelPrices' has {key}.{field}={value!r}; expected a number of US dollars "
                    "per 1,000 tokens, from 0 (and below 1000)"
                )
            values.append(float(value))
        prices[target.model_id] = ModelPrice(*values)
    return prices


def load_config(context: Mapping[str, Any]) -> AppConfig:
    """Build and validate the app's configuration from CDK context values."""
    from genai_core.conversation_settings import STORE_CLIENT
    from stacks import conversations_config  # both import ConfigError
    from stacks.knowledge_base_config import CONTEXT_KEY, load_knowledge_base_config

    ctx = _Context(context)
    conversations = conversations_config.load_conversations_config(context.get(conversations_config.CONTEXT_KEY))
    # A remembered turn reads its conversation before the model call and writes it after: both worst cases count.
    store_calls = 2 * STORE_CLIENT.worst_case_seconds if conversations.enabled else 0.0
    bedrock = ClientSettings(
        connect_timeout=ctx.integer("bedrockConnectTimeoutSeconds", 1, 60),
        read_timeout=ctx.integer("bedrockReadTimeoutSeconds", 1, 900),
        max_attempts=ctx.integer("bedrockMaxAttempts", 1, 5),
    )
    function = FunctionConfig(
        memory_mb=ctx.integer("lambdaMemoryMb", 128, 10240),
        timeout_seconds=ctx.integer("lambdaTimeoutSeconds", 3, 900),
        powertools_layer_version=ctx.integer("powertoolsLayerVersion", 1, 10000),
        log_retention_days=ctx.choice("logRetentionDays", LOG_RETENTION_DAYS),
    )
    api = ApiConfig(
        stage_name=ctx.name("stageName"),
        integration_timeout_seconds=ctx.integer("apiIntegrationTimeoutSeconds", 1, MAX_INTEGRATION_TIMEOUT_SECONDS),
        throttling_rate_limit=ctx.integer("throttlingRateLimit", 1, 10000),
        throttling_burst_limit=ctx.integer("throttlingBurstLimit", 1, 5000),
        auth_mode=ctx.one_of("authMode", AUTH_MODES),
        api_key_quota_per_day=ctx.integer("apiKeyQuotaPerDay", 1, 10_000_000),
        create_account_role=ctx.boolean("createApiGatewayAccountRole"),
        enable_waf=ctx.boolean("enableWaf"),
        waf_rate_limit_per_5_minutes=ctx.integer("wafRateLimitPer5Minutes", 10, 2_000_000_000),
        log_retention_days=function.log_retention_days,
    )
    guardrail = GuardrailConfig(
        filter_strength=ctx.one_of("guardrailFilterStrength", FILTER_STRENGTHS),
        prompt_attack_strength=ctx.one_of("guardrailPromptAttackStrength", FILTER_STRENGTHS),
        pii_action=ctx.one_of("guardrailPiiAction", PII_ACTIONS),
        profiles=ctx.per_family("guardrailProfiles", GUARDRAIL_PROFILES),
    )
    if guardrail.prompt_attack_strength == "NONE" and "prompt-attack" in guardrail.profiles_in_use:
        raise ConfigError(
            "context key 'guardrailProfiles' gives a family the prompt-attack guardrail, but "
            "'guardrailPromptAttackStrength' is NONE: that guardrail would filter nothing (give the family 'none')"
        )
    # The timeout chain (docs/configuration.md): on a fresh invocation one Bedrock attempt and the answer fit in the
    # function's timeout, which ends before API Gateway's. More attempts are made only when the time left allows
    # (the function decides before each model call: genai_core/limits.py).
    one_attempt = shortest_function_timeout(bedrock) + store_calls
    if not one_attempt < function.timeout_seconds < api.integration_timeout_seconds:
        stored = f" + {store_calls:g} s for a remembered turn's two conversation-store calls" if store_calls else ""
        raise ConfigError(
            "timeouts must chain: bedrockConnectTimeoutSeconds + bedrockReadTimeoutSeconds + "
            f"{ANSWER_MARGIN_SECONDS:g} s to answer{stored} ({one_attempt:g}) < lambdaTimeoutSeconds "
            f"({function.timeout_seconds}) < apiIntegrationTimeoutSeconds ({api.integration_timeout_seconds})"
        )
    streaming = StreamingConfig(
        function_timeout_seconds=ctx.integer("streamFunctionTimeoutSeconds", 10, MAX_STREAM_SECONDS),
        integration_timeout_seconds=ctx.integer("streamIntegrationTimeoutSeconds", 10, MAX_STREAM_SECONDS),
        web_adapter_layer_version=ctx.integer("lambdaWebAdapterLayerVersion", 1, 10000),
    )
    # The stream's chain: a stream starts with every attempt of the client, and the function gives up before
    # API Gateway cuts the stream (so a stream ends with its final or error event).
    every_attempt = longest_call_seconds(bedrock) + store_calls
    if not every_attempt < streaming.function_timeout_seconds < streaming.integration_timeout_seconds:
        stored = f" + {store_calls:g} s for a remembered turn's two conversation-store calls" if store_calls else ""
        raise ConfigError(
            "streaming timeouts must chain: (bedrockConnectTimeoutSeconds + bedrockReadTimeoutSeconds) x "
            f"bedrockMaxAttempts + botocore's backoff + {ANSWER_MARGIN_SECONDS:g} s{stored} ({every_attempt:g}) "
            f"< streamFunctionTimeoutSeconds ({streaming.function_timeout_seconds}) "
            f"< streamIntegrationTimeoutSeconds ({streaming.integration_timeout_seconds})"
        )
    # A request that names uploads reads each one (the storage client's worst case) before its model call: one read
    # and one attempt must fit as well, or every such request would be refused (504 deadline_exceeded). No
    # conversation-store call comes with it: files go to tasks with an instruction, memory to chats (the catalog).
    attempt = shortest_function_timeout(bedrock)
    if not STORAGE_CLIENT.worst_case_seconds + attempt < function.timeout_seconds:
        raise ConfigError(
            f"timeouts must leave room for an upload: reading one ({STORAGE_CLIENT.worst_case_seconds:g} s at worst) "
            f"and one Bedrock attempt with the answer's margin ({attempt:g} s) must fit in lambdaTimeoutSeconds "
            f"({function.timeout_seconds})"
        )
    uploads = UploadsConfig(
        expire_days=ctx.integer("uploadsExpireDays", 1, 30),
        url_seconds=ctx.integer("uploadUrlSeconds", UPLOAD_URL_SECONDS_MIN, UPLOAD_URL_SECONDS_MAX),
        files_from_s3=ctx.boolean("filesFromS3"),
    )
    models = _model_targets(ctx)
    namespace = ctx.raw("metricsNamespace")
    if not isinstance(namespace, str) or not NAMESPACE.match(namespace):
        raise ConfigError(
            f"context key 'metricsNamespace' must be 1-255 letters, digits or . - _ / # : and not start with 'AWS/'; got {namespace!r}"
        )
    monitoring = MonitoringConfig(
        metrics_namespace=namespace,
        alarm_email=ctx.optional("alarmEmail", EMAIL, "an e-mail address (or empty for no subscription)"),
        alarm_5xx_rate_percent=ctx.number("alarm5xxRatePercent", 0, 100),
        alarm_p99_latency_ms=ctx.integer("alarmP99LatencyMs", 50, 60_000),
        prices=_model_prices(ctx, models),
    )
    region = ctx.optional("region", REGION, "an AWS region such as us-east-1")
    knowledge_base = load_knowledge_base_config(context.get(CONTEXT_KEY), region)
    # A task that searches the knowledge base searches first: the search's worst case, then one Bedrock attempt and
    # the answer must still fit in the function's timeout.
    searching = search_and_one_attempt(bedrock)
    if knowledge_base.enabled and not searching < function.timeout_seconds:
        raise ConfigError(
            f"timeouts must chain with the knowledge base on: a search's worst case ({RETRIEVAL_CLIENT.worst_case_seconds:g} s) "
            f"+ bedrockConnectTimeoutSeconds + bedrockReadTimeoutSeconds + {ANSWER_MARGIN_SECONDS:g} s to answer "
            f"({searching:g}) < lambdaTimeoutSeconds ({function.timeout_seconds}); lower the Bedrock timeouts, raise "
            f"lambdaTimeoutSeconds (below apiIntegrationTimeoutSeconds), or switch it off with -c {CONTEXT_KEY}=false"
        )
    return AppConfig(
        stack_name=ctx.name("stackName"),
        account=ctx.optional("account", ACCOUNT, "a 12-digit AWS account id"),
        region=region,
        models=models,
        bedrock=bedrock,
        function=function,
        streaming=streaming,
        api=api,
        guardrail=guardrail,
        log_prompts_for_debugging=ctx.boolean("logPromptsForDebugging"),
        profile=ctx.one_of("profile", PROFILES),
        monitoring=monitoring,
        uploads=uploads,
        conversations=conversations,
        knowledge_base=knowledge_base,
    )
