"""The Terraform module declares exactly the tables the package creates, and the IAM policy grants
exactly the actions the package calls."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest

from alexdb.adapters.dynamodb.tables import (
    ALERTS,
    CHAT,
    DATA_ACTIONS,
    INSTRUMENTS,
    NOTIFICATIONS,
    TABLES,
    TICKS,
    TTL_ATTRIBUTE,
    USERS,
    TableSpec,
)
from alexdb.domain.alerts import TICK_TTL_MS

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "infra" / "terraform"


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip('"')
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items() if k not in ("__is_block__", "__comments__")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _resources() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in MODULE.glob("*.tf"):
        with path.open() as handle:
            parsed = _plain(hcl2.load(handle))
        for block in parsed.get("resource", []) + parsed.get("data", []):
            for kind, named in block.items():
                for name, body in named.items():
                    found[f"{kind}.{name}"] = body
    return found


SPECS = [("users", USERS), ("instruments", INSTRUMENTS), ("chat", CHAT), ("alerts", ALERTS), ("ticks", TICKS),
         ("notifications", NOTIFICATIONS)]


def test_every_table_of_the_package_is_in_the_module() -> None:
    assert {spec.role for _, spec in SPECS} == {spec.role for spec in TABLES}


@pytest.mark.parametrize(("resource", "spec"), SPECS)
def test_tables_match_the_package(resource: str, spec: TableSpec) -> None:
    table = _resources()[f"aws_dynamodb_table.{resource}"]
    assert table["name"] in (f"${{var.{resource}_table_name}}", f"${{var.speed_table_prefix}}{spec.default_name}")
    request = spec.create_request(spec.default_name)
    assert (table["hash_key"], table.get("range_key")) == (spec.hash_key, spec.range_key)
    assert table["billing_mode"] == request["BillingMode"]
    assert {(a["name"], a["type"]) for a in table["attribute"]} == {
        (a["AttributeName"], a["AttributeType"]) for a in request["AttributeDefinitions"]}
    declared_gsis = {(i["name"], i["hash_key"], i["range_key"], i["projection_type"],
                      tuple(i.get("non_key_attributes", ()))) for i in table.get("global_secondary_index", [])}
    assert declared_gsis == {(i.name, i.hash_key, i.range_key, i.projection_request()["ProjectionType"],
                              tuple(i.projection_request().get("NonKeyAttributes", ())))
                             for i in spec.indexes if not i.local}
    declared_lsis = {(i["name"], i["range_key"]) for i in table.get("local_secondary_index", [])}
    assert declared_lsis == {(i.name, i.range_key) for i in spec.indexes if i.local}
    assert table["ttl"][0] == {"attribute_name": TTL_ATTRIBUTE, "enabled": True}
    assert table["point_in_time_recovery"][0]["enabled"] == "${var.pitr_enabled}"


def test_lambda_policy_grants_exactly_the_actions_used_on_exactly_these_resources() -> None:
    document = _resources()["aws_iam_policy_document.tables"]
    statements = {s["sid"]: s for s in document["statement"]}
    tables = statements["AlexdbTables"]
    assert set(tables["actions"]) == {f"dynamodb:{action}" for action in DATA_ACTIONS}
    assert tables["resources"] == [f"${{aws_dynamodb_table.{resource}.arn}}" for resource, _ in SPECS]
    indexes = statements["AlexdbIndexes"]["resources"]
    expected = {f"${{aws_dynamodb_table.{r}.arn}}/index/{i.name}" for r, spec in SPECS for i in spec.indexes}
    assert set(indexes) == expected and statements["AlexdbIndexes"]["actions"] == ["dynamodb:Query"]


def test_the_role_may_put_and_get_tick_chunks_and_nothing_else_in_s3() -> None:
    from alexdb.adapters.dynamodb.tick_archive import ARCHIVE_ACTIONS

    statements = {s["sid"]: s for s in _resources()["aws_iam_policy_document.tables"]["statement"]}
    archive = statements["AlexdbTickArchive"]
    assert set(archive["actions"]) == {f"s3:{action}" for action in ARCHIVE_ACTIONS}
    assert archive["resources"] == ["${aws_s3_bucket.ticks.arn}/ticks/*"]
    source = (ROOT / "src" / "alexdb" / "adapters" / "dynamodb" / "tick_archive.py").read_text()
    called = {"".join(part.title() for part in name.split("_")) for name in re.findall(r"_client\.(\w+)\(", source)}
    assert called == ARCHIVE_ACTIONS
    bucket = _resources()
    rule = bucket["aws_s3_bucket_lifecycle_configuration.ticks"]["rule"][0]
    assert rule["expiration"][0]["days"] * 86_400_000 > TICK_TTL_MS  # a chunk outlives the item pointing to it
    assert all(bucket["aws_s3_bucket_public_access_block.ticks"][flag] is True for flag in (
        "block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))


def test_the_package_calls_no_action_the_policy_lacks() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "src" / "alexdb" / "adapters" / "dynamodb").glob("*.py")
                       if p.name != "provisioning.py")  # provisioning is an administrator's tool
    called = set(re.findall(r'\.call\(\s*"(\w+)"', source))
    called |= {"ConditionCheckItem"} if '"ConditionCheck"' in source else set()
    called |= {"DescribeTable"} if "describe_table" in source else set()
    called -= {"TransactWriteItems"}  # authorised per contained action: PutItem, UpdateItem, ConditionCheckItem
    assert called <= DATA_ACTIONS
    assert DATA_ACTIONS - called <= {"PutItem", "UpdateItem"}  # reached through put()/update() helpers


def test_chat_table_keeps_35_days_of_backups_and_alarms_on_errors() -> None:
    resources = _resources()
    assert resources["aws_dynamodb_table.chat"]["point_in_time_recovery"][0]["recovery_period_in_days"] == 35
    system = resources["aws_cloudwatch_metric_alarm.chat_system_errors"]
    user = resources["aws_cloudwatch_metric_alarm.user_errors"]
    assert (system["metric_name"], user["metric_name"]) == ("SystemErrors", "UserErrors")
    assert system["dimensions"] == {"TableName": "${aws_dynamodb_table.chat.name}"}
    for alarm in (system, user):
        assert "var.alarm_sns_topic_arn" in alarm["alarm_actions"]


def test_outputs_print_env_lines() -> None:
    with (MODULE / "outputs.tf").open() as handle:
        outputs = _plain(hcl2.load(handle))["output"]
    env = next(o["env"] for o in outputs if "env" in o)["value"]
    for line in ("DYNAMODB_USERS_TABLE=", "DYNAMODB_INSTRUMENTS_TABLE=", "DYNAMODB_CHAT_TABLE=", "AWS_REGION=",
                 "ALEXDB_URL=dynamodb://", "ALEXDB_TICKS_BUCKET="):
        assert line in env


def test_the_aurora_policy_grants_exactly_the_data_api_calls_the_driver_makes() -> None:
    import aurora_data_api  # type: ignore[import-untyped]

    from alexdb.adapters.sql.data_api import DATA_API_ACTIONS

    driver = Path(aurora_data_api.__file__).read_text()
    called = {"".join(part.title() for part in name.split("_"))
              for name in re.findall(r"_client\.(\w+)\(", driver)}
    assert called == DATA_API_ACTIONS
    statements = {s["sid"]: s for s in _resources()["aws_iam_policy_document.aurora"]["statement"]}
    assert set(statements["AlexdbDataApi"]["actions"]) == {f"rds-data:{action}" for action in DATA_API_ACTIONS}
    assert statements["AlexdbDataApi"]["resources"] == ["${aws_rds_cluster.aurora.arn}"]
    assert statements["AlexdbDataApiSecret"]["actions"] == ["secretsmanager:GetSecretValue"]
    cluster = _resources()["aws_rds_cluster.aurora"]
    assert cluster["enable_http_endpoint"] is True and cluster["manage_master_user_password"] is True
