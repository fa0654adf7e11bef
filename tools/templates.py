"""Facts read from synthesized CloudFormation templates, for ``make review`` and ``make diagram``.

Pure functions over template dicts (``{stack name: template}``): no synth, no AWS, no files. Intrinsic functions are
rendered as readable text (``Ref`` and ``Fn::GetAtt`` as ``${Name}`` / ``${Logical.Attribute}``, ``Fn::Join``
concatenated), so an ARN reads as ``arn:${AWS::Partition}:bedrock:${AWS::Region}:...``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from genai_core import settings

Templates = Mapping[str, Mapping[str, Any]]


def render(node: Any) -> str:
    """A template value as text; intrinsic functions in ``${...}`` form."""
    if isinstance(node, str):
        return node
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, (int, float)):
        return str(node)
    if isinstance(node, list):
        return ", ".join(render(item) for item in node)
    if isinstance(node, dict) and len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref":
            return f"${{{value}}}"
        if key == "Fn::GetAtt":
            return f"${{{'.'.join(value) if isinstance(value, list) else value}}}"
        if key == "Fn::Join":
            separator, parts = value
            return separator.join(render(part) for part in parts)
        if key == "Fn::Sub":
            return value if isinstance(value, str) else render(value[0])
        if key == "Fn::GetStackOutput":
            return f"${{{value.get('StackName')}.{value.get('OutputName')}}}"
        if key == "Fn::ImportValue":
            return f"${{Import:{render(value)}}}"
    return json.dumps(node, sort_keys=True)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def resources(templates: Templates, *types: str) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(stack, logical id, resource) of every resource of the given types, sorted by stack and logical id."""
    for stack in sorted(templates):
        for logical_id, resource in sorted(templates[stack].get("Resources", {}).items()):
            if not types or resource.get("Type") in types:
                yield stack, logical_id, resource


def props(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    return resource.get("Properties") or {}


def ref_id(node: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points to, if ``node`` is one."""
    if isinstance(node, dict) and "Ref" in node:
        return str(node["Ref"])
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        target = node["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return None


def referenced_ids(node: Any) -> set[str]:
    """Every logical id referenced (Ref or GetAtt) anywhere inside ``node``."""
    found: set[str] = set()
    if isinstance(node, dict):
        target = ref_id(node)
        if target is not None:
            found.add(target)
        for value in node.values():
            found |= referenced_ids(value)
    elif isinstance(node, list):
        for item in node:
            found |= referenced_ids(item)
    return found


# --- the REST API ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiRoute:
    stack: str
    api: str  # logical id of the RestApi
    method: str
    path: str
    authorization: str  # AWS_IAM, NONE, COGNITO_USER_POOLS, CUSTOM
    api_key_required: bool
    request_model: str | None
    validator: str | None  # what the request validator checks, e.g. "body + parameters"
    integration: str  # AWS_PROXY, MOCK, ...
    function: str | None  # logical id of the Lambda function it invokes
    timeout_ms: int | None
    transfer_mode: str | None  # ResponseTransferMode (STREAM for response streaming), when set

    @property
    def family(self) -> str:
        return self.path.strip("/").split("/")[0]

    @property
    def auth_label(self) -> str:
        label = self.authorization
        if self.api_key_required:
            label = "API key" if label == "NONE" else f"{label} + API key"
        return label


def _resource_paths(template: Mapping[str, Any]) -> dict[str, str]:
    """Logical id of each AWS::ApiGateway::Resource -> its full path."""
    nodes = {
        logical_id: props(resource)
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::ApiGateway::Resource"
    }
    paths: dict[str, str] = {}

    def path_of(logical_id: str, depth: int = 0) -> str:
        if logical_id in paths:
            return paths[logical_id]
        node = nodes[logical_id]
        parent = node.get("ParentId")
        parent_id = parent.get("Ref") if isinstance(parent, dict) else None
        prefix = path_of(str(parent_id), depth + 1) if parent_id in nodes and depth < 50 else ""
        paths[logical_id] = f"{prefix}/{node.get('PathPart', '')}"
        return paths[logical_id]

    for logical_id in nodes:
        path_of(logical_id)
    return paths


def api_routes(templates: Templates) -> list[ApiRoute]:
    """Every method of every REST API, sorted by path then method."""
    routes = []
    for stack in sorted(templates):
        template = templates[stack]
        all_resources = template.get("Resources", {})
        paths = _resource_paths(template)
        for _, _, method in resources({stack: template}, "AWS::ApiGateway::Method"):
            p = props(method)
            resource_id = ref_id(p.get("ResourceId"))
            path = paths.get(resource_id or "", "/")
            models = p.get("RequestModels") or {}
            model_names = []
            for content_type in sorted(models):
                model_id = ref_id(models[content_type])
                model = all_resources.get(model_id or "", {})
                model_names.append(
                    f"{props(model).get('Name', model_id or render(models[content_type]))} ({content_type})"
                )
            validator = None
            validator_id = ref_id(p.get("RequestValidatorId"))
            if validator_id in all_resources:
                v = props(all_resources[validator_id])
                checks = [
                    name
                    for key, name in (("ValidateRequestBody", "body"), ("ValidateRequestParameters", "parameters"))
                    if v.get(key)
                ]
                validator = " + ".join(checks) if checks else "nothing"
            integration = p.get("Integration") or {}
            functions = sorted(
                target
                for target in referenced_ids(integration.get("Uri"))
                if all_resources.get(target, {}).get("Type") == "AWS::Lambda::Function"
            )
            routes.append(
                ApiRoute(
                    stack=stack,
                    api=ref_id(p.get("RestApiId")) or "",
                    method=str(p.get("HttpMethod", "")),
                    path=path,
                    authorization=str(p.get("AuthorizationType", "NONE")),
                    api_key_required=bool(p.get("ApiKeyRequired", False)),
                    request_model=", ".join(model_names) or None,
                    validator=validator,
                    integration=str(integration.get("Type", "none")),
                    function=functions[0] if functions else None,
                    timeout_ms=integration.get("TimeoutInMillis"),
                    transfer_mode=integration.get("ResponseTransferMode"),
                )
            )
    return sorted(routes, key=lambda route: (route.stack, route.path, route.method))


@dataclass(frozen=True)
class Throttle:
    rate_limit: float | None
    burst_limit: int | None
    source: str  # where it comes from: the stage's method settings or a usage plan

    def __str__(self) -> str:
        rate = "unlimited" if self.rate_limit is None else f"{self.rate_limit:g} req/s"
        burst = "unlimited" if self.burst_limit is None else f"burst {self.burst_limit}"
        return f"{rate}, {burst} ({self.source})"


@dataclass(frozen=True)
class Stage:
    stack: str
    logical_id: str
    api: str
    name: str
    method_settings: tuple[Mapping[str, Any], ...]
    tracing: bool
    access_log_destination: str | None
    access_log_group: str | None  # logical id of the log group, when it is in the template
    cache_cluster: bool
    web_acl: str | None  # logical id of an associated WAFv2 web ACL

    def throttle_for(self, method: str, path: str) -> Throttle | None:
        """The stage's throttling for one method: its own method setting, else the stage-wide ``/*`` ``*`` one."""
        escaped = path.replace("/", "~1")
        best: tuple[int, Mapping[str, Any]] | None = None
        for setting in self.method_settings:
            if "ThrottlingRateLimit" not in setting and "ThrottlingBurstLimit" not in setting:
                continue
            resource_path = setting.get("ResourcePath", "/*")
            http_method = setting.get("HttpMethod", "*")
            if resource_path not in ("/*", escaped) or http_method not in ("*", method):
                continue
            score = (resource_path != "/*") * 2 + (http_method != "*")
            if best is None or score > best[0]:
                best = (score, setting)
        if best is None:
            return None
        setting = best[1]
        scope = "stage-wide" if best[0] == 0 else "method setting"
        return Throttle(
            setting.get("ThrottlingRateLimit"), setting.get("ThrottlingBurstLimit"), f"stage {self.name}, {scope}"
        )


def stages(templates: Templates) -> list[Stage]:
    found = []
    associations = {
        (stack, target): ref_id(props(resource).get("WebACLArn")) or render(props(resource).get("WebACLArn"))
        for stack, _, resource in resources(templates, "AWS::WAFv2::WebACLAssociation")
        for target in referenced_ids(props(resource).get("ResourceArn"))
    }
    for stack, logical_id, resource in resources(templates, "AWS::ApiGateway::Stage"):
        p = props(resource)
        access = p.get("AccessLogSetting") or {}
        destination = access.get("DestinationArn")
        log_groups = sorted(
            target
            for target in referenced_ids(destination)
            if templates[stack]["Resources"].get(target, {}).get("Type") == "AWS::Logs::LogGroup"
        )
        found.append(
            Stage(
                stack=stack,
                logical_id=logical_id,
                api=ref_id(p.get("RestApiId")) or "",
                name=str(p.get("StageName", logical_id)),
                method_settings=tuple(p.get("MethodSettings") or ()),
                tracing=bool(p.get("TracingEnabled", False)),
                access_log_destination=render(destination) if destination else None,
                access_log_group=log_groups[0] if log_groups else None,
                cache_cluster=bool(p.get("CacheClusterEnabled", False)),
                web_acl=associations.get((stack, logical_id)),
            )
        )
    return found


@dataclass(frozen=True)
class UsagePlan:
    stack: str
    logical_id: str
    throttle: Throttle | None
    quota: str | None


def usage_plans(templates: Templates) -> list[UsagePlan]:
    plans = []
    for stack, logical_id, resource in resources(templates, "AWS::ApiGateway::UsagePlan"):
        p = props(resource)
        throttle = p.get("Throttle")
        quota = p.get("Quota")
        plans.append(
            UsagePlan(
                stack,
                logical_id,
                Throttle(throttle.get("RateLimit"), throttle.get("BurstLimit"), f"usage plan {logical_id}")
                if throttle
                else None,
                f"{quota.get('Limit')} requests per {str(quota.get('Period', '')).lower()}" if quota else None,
            )
        )
    return plans


# --- functions, logs, Bedrock ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    stack: str
    logical_id: str
    runtime: str
    architecture: str
    memory_mb: int
    timeout_s: int
    tracing: str
    role: str | None
    log_group: str | None
    environment: Mapping[str, str] = field(default_factory=dict)

    @property
    def models(self) -> dict[str, str]:
        """family -> model id, from the function's MODEL_IDS (what it will call)."""
        try:
            models = settings.models_from(self.environment.get(settings.MODEL_IDS) or "{}")
        except ValueError:
            return {}
        return dict(sorted(models.items()))

    @property
    def guardrail_of(self) -> dict[str, str]:
        """family -> the logical id of the guardrail its Converse calls carry, from the function's GUARDRAILS."""
        try:
            guarded = json.loads(self.environment.get(settings.GUARDRAILS) or "{}")
        except ValueError:
            return {}
        found = {}
        for family, guardrail in sorted(guarded.items()) if isinstance(guarded, dict) else []:
            match = re.fullmatch(r"\$\{([A-Za-z0-9]+)\.GuardrailId\}", str(guardrail.get("id", "")))
            found[str(family)] = match[1] if match else str(guardrail.get("id", ""))
        return found

    @property
    def guarded_families(self) -> list[str]:
        return sorted(self.guardrail_of)


def functions(templates: Templates, *, app_only: bool = True) -> list[Function]:
    """The app's functions: those over the function's asset, whose environment names the models (``MODEL_IDS``).
    ``app_only=False`` adds the CDK's own (the custom-resource function that empties the uploads and corpus buckets on `cdk destroy`)."""
    found = []
    for stack, logical_id, resource in resources(templates, "AWS::Lambda::Function"):
        p = props(resource)
        variables = (p.get("Environment") or {}).get("Variables") or {}
        if app_only and "MODEL_IDS" not in variables:
            continue
        found.append(
            Function(
                stack=stack,
                logical_id=logical_id,
                runtime=str(p.get("Runtime", "container image" if "ImageUri" in (p.get("Code") or {}) else "?")),
                architecture=",".join(as_list(p.get("Architectures"))) or "x86_64",
                memory_mb=int(p.get("MemorySize", 128)),
                timeout_s=int(p.get("Timeout", 3)),
                tracing=str((p.get("TracingConfig") or {}).get("Mode", "PassThrough")),
                role=ref_id(p.get("Role")),
                log_group=ref_id((p.get("LoggingConfig") or {}).get("LogGroup")),
                environment={key: render(value) for key, value in sorted(variables.items())},
            )
        )
    return found


def log_retention(templates: Templates) -> dict[tuple[str, str], int | None]:
    return {
        (stack, logical_id): props(resource).get("RetentionInDays")
        for stack, logical_id, resource in resources(templates, "AWS::Logs::LogGroup")
    }


@dataclass(frozen=True)
class Guardrail:
    stack: str
    logical_id: str
    name: str
    content_filters: tuple[tuple[str, str, str], ...]  # (type, input strength, output strength), PROMPT_ATTACK excluded
    prompt_attack: tuple[str, str] | None  # (input strength, output strength)
    pii_entities: tuple[tuple[str, str], ...]  # (type, action)
    regexes: tuple[tuple[str, str, str, str], ...]  # (name, pattern, action, description)
    denied_topics: tuple[str, ...]
    word_filters: int
    contextual_grounding: tuple[tuple[str, str], ...]
    versions: tuple[str, ...]  # logical ids of the pinned versions


def guardrails(templates: Templates) -> list[Guardrail]:
    found = []
    versions: dict[tuple[str, str], list[str]] = {}
    for stack, logical_id, resource in resources(templates, "AWS::Bedrock::GuardrailVersion"):
        for target in referenced_ids(props(resource).get("GuardrailIdentifier")):
            versions.setdefault((stack, target), []).append(logical_id)
    for stack, logical_id, resource in resources(templates, "AWS::Bedrock::Guardrail"):
        p = props(resource)
        filters = ((p.get("ContentPolicyConfig") or {}).get("FiltersConfig")) or []
        content = tuple(
            (str(f.get("Type")), str(f.get("InputStrength")), str(f.get("OutputStrength")))
            for f in filters
            if f.get("Type") != "PROMPT_ATTACK"
        )
        attack = [
            (str(f.get("InputStrength")), str(f.get("OutputStrength")))
            for f in filters
            if f.get("Type") == "PROMPT_ATTACK"
        ]
        sensitive = p.get("SensitiveInformationPolicyConfig") or {}
        topics = ((p.get("TopicPolicyConfig") or {}).get("TopicsConfig")) or []
        words = p.get("WordPolicyConfig") or {}
        grounding = ((p.get("ContextualGroundingPolicyConfig") or {}).get("FiltersConfig")) or []
        found.append(
            Guardrail(
                stack=stack,
                logical_id=logical_id,
                name=render(p.get("Name", logical_id)),
                content_filters=content,
                prompt_attack=attack[0] if attack else None,
                pii_entities=tuple(
                    (str(e.get("Type")), str(e.get("Action"))) for e in sensitive.get("PiiEntitiesConfig") or []
                ),
                regexes=tuple(
                    (str(r.get("Name")), str(r.get("Pattern")), str(r.get("Action")), str(r.get("Description", "")))
                    for r in sensitive.get("RegexesConfig") or []
                ),
                denied_topics=tuple(str(t.get("Name")) for t in topics),
                word_filters=len(words.get("WordsConfig") or []) + len(words.get("ManagedWordListsConfig") or []),
                contextual_grounding=tuple((str(g.get("Type")), str(g.get("Threshold"))) for g in grounding),
                versions=tuple(sorted(versions.get((stack, logical_id), []))),
            )
        )
    return found


# --- IAM --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principals: tuple[str, ...]
    conditions: tuple[str, ...]  # "Operator key: value" lines

    @property
    def broadening(self) -> list[str]:
        """Why this Allow reaches further than one named resource with named actions (empty: it does not)."""
        if self.effect != "Allow":
            return []
        reasons = []
        wild_actions = [action for action in self.actions if "*" in action]
        if wild_actions:
            reasons.append("wildcard action " + ", ".join(f"`{action}`" for action in wild_actions))
        if self.not_actions:
            reasons.append("NotAction")
        if self.not_resources:
            reasons.append("NotResource")
        if "*" in self.resources:
            reasons.append("resource `*`")
        partial = [resource for resource in self.resources if resource != "*" and "*" in literal(resource)]
        if partial:
            reasons.append("wildcard in " + ", ".join(f"`{resource}`" for resource in partial))
        if len(self.resources) > 1:
            reasons.append(f"{len(self.resources)} resources")
        return reasons


def literal(text: str) -> str:
    """``text`` without its ``${...}`` references (whose names never hold wildcards)."""
    out, depth = [], 0
    for index, char in enumerate(text):
        if char == "$" and text[index + 1 : index + 2] == "{":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            continue
        if not depth:
            out.append(char)
    return "".join(out)


def _principals(node: Any) -> tuple[str, ...]:
    if node is None:
        return ()
    if node == "*":
        return ("*",)
    if isinstance(node, dict):
        return tuple(sorted(f"{kind}: {render(value)}" for kind, values in node.items() for value in as_list(values)))
    return (render(node),)


def _conditions(node: Any) -> tuple[str, ...]:
    lines = []
    for operator, keys in sorted((node or {}).items()):
        for key, value in sorted(keys.items()):
            values = sorted(render(item) for item in as_list(value))
            lines.append(f"{operator} {key}: {' | '.join(values)}")
    return tuple(lines)


def statements(document: Any) -> list[Statement]:
    found = []
    for index, raw in enumerate(as_list((document or {}).get("Statement"))):
        found.append(
            Statement(
                sid=str(raw.get("Sid", f"#{index + 1}")),
                effect=str(raw.get("Effect", "")),
                actions=tuple(sorted(render(action) for action in as_list(raw.get("Action")))),
                not_actions=tuple(sorted(render(action) for action in as_list(raw.get("NotAction")))),
                resources=tuple(sorted(render(resource) for resource in as_list(raw.get("Resource")))),
                not_resources=tuple(sorted(render(resource) for resource in as_list(raw.get("NotResource")))),
                principals=_principals(raw.get("Principal")),
                conditions=_conditions(raw.get("Condition")),
            )
        )
    return found


@dataclass(frozen=True)
class Policy:
    logical_id: str  # the AWS::IAM::Policy (or the role, for an inline policy)
    name: str
    statements: tuple[Statement, ...]


@dataclass(frozen=True)
class Role:
    stack: str
    logical_id: str
    description: str
    trusted: tuple[str, ...]  # principals of the trust policy
    managed_policies: tuple[str, ...]
    policies: tuple[Policy, ...]
    used_by: tuple[str, ...]  # logical ids of what assumes it in the template (functions, the API Gateway account)

    @property
    def statements(self) -> list[tuple[Policy, Statement]]:
        return [(policy, statement) for policy in self.policies for statement in policy.statements]


def roles(templates: Templates) -> list[Role]:
    found = []
    for stack, logical_id, resource in resources(templates, "AWS::IAM::Role"):
        p = props(resource)
        policies = [
            Policy(logical_id, str(inline.get("PolicyName", "inline")), tuple(statements(inline.get("PolicyDocument"))))
            for inline in p.get("Policies") or []
        ]
        for _, policy_id, policy in resources({stack: templates[stack]}, "AWS::IAM::Policy"):
            if logical_id in {ref_id(role) for role in as_list(props(policy).get("Roles"))}:
                policies.append(
                    Policy(
                        policy_id,
                        render(props(policy).get("PolicyName", policy_id)),
                        tuple(statements(props(policy).get("PolicyDocument"))),
                    )
                )
        trusted = tuple(
            sorted({principal for s in statements(p.get("AssumeRolePolicyDocument")) for principal in s.principals})
        )
        users = sorted(
            other_id
            for _, other_id, other in resources({stack: templates[stack]})
            if other.get("Type") in ("AWS::Lambda::Function", "AWS::ApiGateway::Account")
            and logical_id in referenced_ids(props(other).get("Role") or props(other).get("CloudWatchRoleArn"))
        )
        found.append(
            Role(
                stack=stack,
                logical_id=logical_id,
                description=render(p.get("Description", "")),
                trusted=trusted,
                managed_policies=tuple(sorted(render(arn) for arn in as_list(p.get("ManagedPolicyArns")))),
                policies=tuple(sorted(policies, key=lambda policy: policy.logical_id)),
                used_by=tuple(users),
            )
        )
    return found


@dataclass(frozen=True)
class KnowledgeBase:
    """A Bedrock knowledge base with its vector index, data source and service role, and who may search it."""

    stack: str
    logical_id: str
    name: str
    storage: str  # S3_VECTORS, OPENSEARCH_SERVERLESS...
    embedding_model: str  # the model id at the end of the embedding model's ARN
    dimension: int | None  # the index's
    distance_metric: str
    data_type: str
    non_filterable_keys: tuple[str, ...]
    index_name: str
    chunking: Mapping[str, Any]  # the data source's ChunkingConfiguration, as in the template
    role: str | None
    retrievers: tuple[str, ...]  # roles that may bedrock:Retrieve on it


def knowledge_bases(templates: Templates) -> list[KnowledgeBase]:
    found = []
    for stack, logical_id, resource in resources(templates, "AWS::Bedrock::KnowledgeBase"):
        p = props(resource)
        only = {stack: templates[stack]}
        vector = (p.get("KnowledgeBaseConfiguration") or {}).get("VectorKnowledgeBaseConfiguration") or {}
        storage = p.get("StorageConfiguration") or {}
        index_id = ref_id((storage.get("S3VectorsConfiguration") or {}).get("IndexArn"))
        index = props(templates[stack]["Resources"].get(index_id or "", {}))
        sources = [
            props(source)
            for _, _, source in resources(only, "AWS::Bedrock::DataSource")
            if ref_id(props(source).get("KnowledgeBaseId")) == logical_id
        ]
        chunking = ((sources[0].get("VectorIngestionConfiguration") or {}) if sources else {}).get(
            "ChunkingConfiguration"
        ) or {}
        arn = f"${{{logical_id}.KnowledgeBaseArn}}"
        retrievers = sorted(
            {
                role.logical_id
                for role in roles(only)
                for _, statement in role.statements
                if "bedrock:Retrieve" in statement.actions and arn in statement.resources
            }
        )
        dimension = index.get("Dimension")
        found.append(
            KnowledgeBase(
                stack=stack,
                logical_id=logical_id,
                name=render(p.get("Name", logical_id)),
                storage=str(storage.get("Type", "?")),
                embedding_model=render(vector.get("EmbeddingModelArn", "")).rsplit("/", 1)[-1],
                dimension=int(dimension) if isinstance(dimension, int) else None,
                distance_metric=str(index.get("DistanceMetric", "?")),
                data_type=str(index.get("DataType", "?")),
                non_filterable_keys=tuple(
                    (index.get("MetadataConfiguration") or {}).get("NonFilterableMetadataKeys") or ()
                ),
                index_name=render(index.get("IndexName", "")),
                chunking=chunking,
                role=ref_id(p.get("RoleArn")),
                retrievers=tuple(retrievers),
            )
        )
    return found


# Resource types whose property holds a resource-based policy document.
RESOURCE_POLICIES = {
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::Logs::ResourcePolicy": "PolicyDocument",
}


def resource_policies(templates: Templates) -> list[tuple[str, str, str, list[Statement]]]:
    """(stack, logical id, type, statements) of every resource-based policy document."""
    found = []
    for stack, logical_id, resource in resources(templates, *RESOURCE_POLICIES):
        document = props(resource).get(RESOURCE_POLICIES[resource["Type"]])
        if isinstance(document, str):
            try:
                document = json.loads(document)
            except ValueError:
                document = {}
        found.append((stack, logical_id, str(resource["Type"]), statements(document)))
    return found


# --- monitoring ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alarm:
    stack: str
    logical_id: str
    name: str
    metrics: int  # metrics the alarm evaluates (each is billed as an alarm metric)
    actions: tuple[str, ...]


def alarms(templates: Templates) -> list[Alarm]:
    found = []
    for stack, logical_id, resource in resources(templates, "AWS::CloudWatch::Alarm"):
        p = props(resource)
        metric_stats = [m for m in p.get("Metrics") or [] if "MetricStat" in m]
        count = len(metric_stats) if p.get("Metrics") else (1 if p.get("MetricName") else 0)
        found.append(
            Alarm(
                stack=stack,
                logical_id=logical_id,
                name=render(p.get("AlarmName", logical_id)),
                metrics=count,
                actions=tuple(sorted({ref_id(action) or render(action) for action in as_list(p.get("AlarmActions"))})),
            )
        )
    return found


@dataclass(frozen=True)
class Topic:
    stack: str
    logical_id: str
    encrypted: bool
    tls_only: bool  # a topic policy denies publishing without TLS
    subscriptions: tuple[str, ...]  # protocols


def topics(templates: Templates) -> list[Topic]:
    found = []
    policies = resource_policies(templates)
    for stack, logical_id, resource in resources(templates, "AWS::SNS::Topic"):
        p = props(resource)
        tls_only = any(
            s.effect == "Deny" and any("aws:SecureTransport: false" in condition for condition in s.conditions)
            for policy_stack, policy_id, kind, policy_statements in policies
            if policy_stack == stack
            and kind == "AWS::SNS::TopicPolicy"
            and logical_id in referenced_ids(props(templates[stack]["Resources"][policy_id]).get("Topics"))
            for s in policy_statements
        )
        protocols = [str(s.get("Protocol")) for s in p.get("Subscription") or []]
        protocols += [
            str(props(sub).get("Protocol"))
            for _, _, sub in resources({stack: templates[stack]}, "AWS::SNS::Subscription")
            if ref_id(props(sub).get("TopicArn")) == logical_id
        ]
        found.append(Topic(stack, logical_id, "KmsMasterKeyId" in p, tls_only, tuple(sorted(protocols))))
    return found


def count_types(template: Mapping[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for resource in template.get("Resources", {}).values():
        counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
    return dict(sorted(counts.items()))
