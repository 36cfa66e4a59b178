"""template.yaml read as the source of truth for the local stack and the tests.

The tables, queues and bucket that the local stack (and every test) creates are the ones
template.yaml declares, with their keys, indexes, TTLs and redrive policies; the functions'
environment variables are resolved the way CloudFormation would. So the two cannot drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
ACCOUNT = "123456789012"


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass
class Function:
    logical_id: str
    code_dir: Path
    handler: str
    timeout: int
    environment: dict[str, str]
    api_routes: list[tuple[str, str]] = field(default_factory=list)  # (METHOD, /path/{param})
    queue: str | None = None  # logical id of the SQS queue feeding it
    batch_size: int = 10


@dataclass
class LocalResources:
    """Physical names the local stack gives to the template's resources."""

    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, dict[str, str]] = field(default_factory=dict)  # logical -> {url, arn, name}
    buckets: dict[str, str] = field(default_factory=dict)
    others: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # secret ARN -> the random value made for it


NO_VALUE = object()  # AWS::NoValue: the list item or property is left out


class Resolver:
    def __init__(self, template: dict[str, Any], resources: LocalResources, region: str):
        self.template = template
        self.resources = resources
        self.region = region
        self.params = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}

    def ref(self, name: str) -> Any:
        r = self.resources
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.params:
            return self.params[name]
        if name == "AWS::Region":
            return self.region
        if name == "AWS::AccountId":
            return ACCOUNT
        if name == "AWS::Partition":
            return "aws"
        if name == "AWS::URLSuffix":
            return "amazonaws.com"
        if name in r.tables:
            return r.tables[name]
        if name in r.queues:
            return r.queues[name]["url"]
        if name in r.buckets:
            return r.buckets[name]
        return r.others.get(name, name)

    def getatt(self, name: str, attr: str) -> str:
        r = self.resources
        if name in r.queues:
            return r.queues[name]["arn" if attr == "Arn" else "name"]
        if name in r.tables:
            return f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{r.tables[name]}"
        if name in r.buckets:
            return f"arn:aws:s3:::{r.buckets[name]}"
        kind = self.template.get("Resources", {}).get(name, {}).get("Type")
        if kind == "AWS::Serverless::Function":  # the local stack names each function by its logical id
            return f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{name}"
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT}:role/{name}"
        return f"arn:aws:local:{self.region}:{ACCOUNT}:{name}"

    def dynamic(self, text: str) -> str:
        """CloudFormation's dynamic references to the stack's own secrets, resolved as CloudFormation does:
        ``{{resolve:secretsmanager:<arn>:SecretString}}`` is the secret's value (made at random locally)."""

        def value(match: re.Match[str]) -> str:
            # resources read back from another terminal's state carry no secrets: their environment
            # comes from the state file, so the reference stays as it is here
            return self.resources.secrets.get(match.group(1), match.group(0))

        return re.sub(r"\{\{resolve:secretsmanager:([^}]+?):SecretString\}\}", value, text)

    def condition(self, name: str) -> bool:
        """A named condition of the template, with its parameters' defaults."""
        return bool(self.resolve(self.template.get("Conditions", {})[name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::If":
                name, yes, no = arg
                return self.resolve(yes if self.condition(name) else no)
            if key == "Fn::Equals":
                return self.resolve(arg[0]) == self.resolve(arg[1])
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::GetAtt":
                return self.getatt(arg[0], arg[1])
            if key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]

                def sub(match: re.Match[str]) -> str:
                    token = match.group(1)
                    if "." in token:
                        return self.getatt(*token.split(".", 1))
                    return self.ref(token)

                return self.dynamic(re.sub(r"\$\{([^}]+)\}", sub, text))
        if isinstance(value, dict):
            return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not NO_VALUE}
        if isinstance(value, list):
            return [v for v in (self.resolve(v) for v in value) if v is not NO_VALUE]
        return value


def physical_names(template: dict[str, Any], prefix: str) -> LocalResources:
    res = LocalResources()
    for logical, spec in template["Resources"].items():
        kind = spec["Type"]
        if kind == "AWS::DynamoDB::Table":
            res.tables[logical] = f"{prefix}-{logical}"
        elif kind == "AWS::S3::Bucket":
            res.buckets[logical] = f"{prefix}-{logical}".lower()
        elif kind == "AWS::SES::ConfigurationSet":
            res.others[logical] = f"{prefix}-{logical}"
    return res


def _create_secrets(session: Any, template: dict[str, Any], res: LocalResources, prefix: str, region: str) -> None:
    """Secrets the template generates (portal links, paging tokens): random values in the local Secrets
    Manager, as CloudFormation would make them, never the literal ``{{resolve:...}}`` text."""
    import secrets as random_secrets

    client = session.client("secretsmanager", region_name=region)
    for logical, spec in template["Resources"].items():
        if spec["Type"] != "AWS::SecretsManager::Secret":
            continue
        length = int((spec.get("Properties", {}).get("GenerateSecretString") or {}).get("PasswordLength", 48))
        value = "".join(random_secrets.choice(_SECRET_ALPHABET) for _ in range(length))
        arn = client.create_secret(Name=f"{prefix}-{logical}", SecretString=value)["ARN"]
        res.others[logical] = arn
        res.secrets[arn] = value


_SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def create_resources(session: Any, template: dict[str, Any], prefix: str, region: str) -> LocalResources:
    """Create every table, queue and bucket of template.yaml (properties as declared) on an AWS endpoint."""
    res = physical_names(template, prefix)
    resolver = Resolver(template, res, region)
    ddb = session.client("dynamodb", region_name=region)
    sqs = session.client("sqs", region_name=region)
    s3 = session.client("s3", region_name=region)
    items = template["Resources"].items()
    for logical, spec in items:
        if spec["Type"] != "AWS::DynamoDB::Table":
            continue
        props = resolver.resolve(spec["Properties"])  # conditional indexes as CloudFormation would make them
        kwargs: dict[str, Any] = {
            "TableName": res.tables[logical],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        for key in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
            if key in props:
                kwargs[key] = props[key]
        if props.get("SSESpecification", {}).get("SSEEnabled"):
            kwargs["SSESpecification"] = {"Enabled": True}
        ddb.create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            ddb.update_time_to_live(TableName=res.tables[logical], TimeToLiveSpecification=ttl)
    # queues: dead-letter queues first, so redrive policies can point at them
    queue_specs = [(k, v) for k, v in items if v["Type"] == "AWS::SQS::Queue"]
    queue_specs.sort(key=lambda kv: "RedrivePolicy" in kv[1].get("Properties", {}))
    for logical, spec in queue_specs:
        props = spec.get("Properties", {})
        name = f"{prefix}-{logical}"
        attrs: dict[str, str] = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
            if key in props:
                attrs[key] = str(props[key])
        if "RedrivePolicy" in props:
            policy = resolver.resolve(props["RedrivePolicy"])
            attrs["RedrivePolicy"] = '{"deadLetterTargetArn":"%s","maxReceiveCount":"%s"}' % (
                policy["deadLetterTargetArn"],
                policy["maxReceiveCount"],
            )
        url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        res.queues[logical] = {"url": url, "arn": arn, "name": name}
    for name in res.buckets.values():
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
    scheduler = session.client("scheduler", region_name=region)
    for logical, spec in items:
        if spec["Type"] == "AWS::Scheduler::ScheduleGroup":
            name = resolver.resolve(spec.get("Properties", {}).get("Name")) or f"{prefix}-{logical}"
            res.others[logical] = name
            scheduler.create_schedule_group(Name=name)
    _create_user_pools(session, template, resolver, res, prefix, region)
    _create_secrets(session, template, res, prefix, region)
    sesv2 = session.client("sesv2", region_name=region)
    for logical, name in res.others.items():
        if template["Resources"][logical]["Type"] == "AWS::SES::ConfigurationSet":
            sesv2.create_configuration_set(ConfigurationSetName=name)
    return res


def _create_user_pools(
    session: Any, template: dict[str, Any], resolver: Resolver, res: LocalResources, prefix: str, region: str
) -> None:
    """The console's Cognito user pools and app clients as declared (moto's cognito-idp stands in); their Refs
    resolve to the pool's and the client's ids, as CloudFormation's do."""
    idp = session.client("cognito-idp", region_name=region)
    items = template["Resources"].items()
    for logical, spec in items:
        if spec["Type"] == "AWS::Cognito::UserPool":
            props = spec.get("Properties", {})
            pool = idp.create_user_pool(
                PoolName=f"{prefix}-{logical}",
                Policies=props.get("Policies", {}),
                AdminCreateUserConfig=props.get("AdminCreateUserConfig", {}),
                UsernameConfiguration=props.get("UsernameConfiguration", {"CaseSensitive": False}),
                AutoVerifiedAttributes=props.get("AutoVerifiedAttributes", []),
            )["UserPool"]
            res.others[logical] = pool["Id"]
    for logical, spec in items:
        if spec["Type"] == "AWS::Cognito::UserPoolClient":
            props = resolver.resolve(spec["Properties"])
            keep = ("ExplicitAuthFlows", "PreventUserExistenceErrors", "EnableTokenRevocation", "AccessTokenValidity")
            keep += ("IdTokenValidity", "RefreshTokenValidity", "TokenValidityUnits", "GenerateSecret")
            client = idp.create_user_pool_client(
                UserPoolId=props["UserPoolId"],
                ClientName=props["ClientName"],
                **{k: props[k] for k in keep if k in props},
            )["UserPoolClient"]
            res.others[logical] = client["ClientId"]


def functions(template: dict[str, Any], res: LocalResources, region: str) -> dict[str, Function]:
    """Each function of the template with its environment resolved against the local resources."""
    resolver = Resolver(template, res, region)
    glob = template.get("Globals", {}).get("Function", {})
    out = {}
    for logical, spec in template["Resources"].items():
        if spec["Type"] != "AWS::Serverless::Function":
            continue
        props = spec["Properties"]
        env = dict(resolver.resolve(glob.get("Environment", {}).get("Variables", {})))
        env.update(resolver.resolve(props.get("Environment", {}).get("Variables", {})))
        fn = Function(
            logical,
            ROOT / props["CodeUri"],
            props["Handler"],
            int(props.get("Timeout", glob.get("Timeout", 3))),
            {k: str(v) for k, v in env.items()},
        )
        for event in (props.get("Events") or {}).values():
            ep = event.get("Properties", {})
            if event["Type"] == "Api":
                fn.api_routes.append((ep["Method"].upper(), ep["Path"]))
            elif event["Type"] == "SQS":
                fn.queue = ep["Queue"]["Fn::GetAtt"][0]
                fn.batch_size = int(ep.get("BatchSize", 10))
        out[logical] = fn
    return out
