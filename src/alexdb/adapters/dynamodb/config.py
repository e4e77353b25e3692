"""Where the DynamoDB tables are: dynamodb:// URLs, environment variables, an injected client."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from alexdb.adapters.dynamodb.client import RetryPolicy
from alexdb.adapters.dynamodb.hot import DEFAULT_META_SECONDS, DEFAULT_PRICE_SECONDS
from alexdb.adapters.dynamodb.tables import CHAT, INSTRUMENTS, TABLES, USERS
from alexdb.adapters.dynamodb.tick_archive import TickArchive, s3_client
from alexdb.domain.errors import ValidationError

BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class DynamoConfig:
    """Table names, region and endpoint of one alexdb DynamoDB database."""

    users_table: str
    instruments_table: str
    region: str
    endpoint_url: str | None = None
    chat_table: str = CHAT.default_name
    prefix: str = ""
    price_cache_seconds: float = DEFAULT_PRICE_SECONDS
    meta_cache_seconds: float = DEFAULT_META_SECONDS
    ticks_bucket: str | None = None  # raw tick chunks in this S3 bucket (tick_archive.py); None: in DynamoDB
    s3_endpoint_url: str | None = None

    def table_names(self) -> dict[str, str]:
        """Every table's name by role (the speed-layer tables take the prefix and their seed names)."""
        names = {"users": self.users_table, "instruments": self.instruments_table, "chat": self.chat_table}
        return {spec.role: names.get(spec.role, self.prefix + spec.default_name) for spec in TABLES}

    @classmethod
    def from_url(cls, url: str) -> DynamoConfig:
        """dynamodb://[host:port][?region=..&prefix=..&users_table=..&instruments_table=..&tls=1&price_cache=5].

        A host means an endpoint such as DynamoDB Local (http unless tls=1); no host means AWS itself.
        Table names come from the URL, else DYNAMODB_USERS_TABLE / DYNAMODB_INSTRUMENTS_TABLE, else the
        seed names, each behind the optional prefix; the region from the URL, AWS_REGION or DYNAMODB_REGION.
        price_cache and meta_cache bound in seconds how old a holdings view's current price and instrument
        name may be (hot.py; 0 reads them every time). ticks_bucket (or ALEXDB_TICKS_BUCKET) keeps raw tick
        chunks in that S3 bucket, s3_endpoint (or ALEXDB_S3_ENDPOINT_URL) being a local S3 if given.
        """
        parts = urlsplit(url)
        if parts.scheme != "dynamodb":
            raise ValidationError("url", url, "expected dynamodb://")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        prefix = query.get("prefix", "")
        users = query.get("users_table") or os.environ.get("DYNAMODB_USERS_TABLE") or USERS.default_name
        instruments = (query.get("instruments_table") or os.environ.get("DYNAMODB_INSTRUMENTS_TABLE")
                       or INSTRUMENTS.default_name)
        region = query.get("region") or os.environ.get("AWS_REGION") or os.environ.get("DYNAMODB_REGION") or "us-east-1"
        endpoint = os.environ.get("DYNAMODB_ENDPOINT_URL")
        if parts.netloc:
            endpoint = f"{'https' if query.get('tls') in ('1', 'true') else 'http'}://{parts.netloc}"
        chat = query.get("chat_table") or os.environ.get("DYNAMODB_CHAT_TABLE") or CHAT.default_name
        caches = {name: _seconds(query, name, default) for name, default in
                  (("price_cache", DEFAULT_PRICE_SECONDS), ("meta_cache", DEFAULT_META_SECONDS))}
        bucket = query.get("ticks_bucket") or os.environ.get("ALEXDB_TICKS_BUCKET") or None
        if bucket is not None and not BUCKET_NAME.fullmatch(bucket):
            raise ValidationError("ticks_bucket", bucket, "not an S3 bucket name (3 to 63 of a-z, 0-9, '.' and '-')")
        s3_endpoint = query.get("s3_endpoint") or os.environ.get("ALEXDB_S3_ENDPOINT_URL") or None
        if s3_endpoint is not None and urlsplit(s3_endpoint).scheme not in ("http", "https"):
            raise ValidationError("s3_endpoint", s3_endpoint, "expected an http:// or https:// URL")
        return cls(prefix + users, prefix + instruments, region, endpoint, prefix + chat, prefix,
                   caches["price_cache"], caches["meta_cache"], bucket, s3_endpoint)

    def client(self, retry: RetryPolicy | None = None) -> Any:
        """A boto3 DynamoDB client for this configuration, retrying as the policy says."""
        import boto3

        retry = retry or RetryPolicy()
        options: dict[str, Any] = {"region_name": self.region,
                                   "config": retry.botocore_config(max_pool_connections=32)}
        if self.endpoint_url:
            options["endpoint_url"] = self.endpoint_url
        return boto3.client("dynamodb", **options)

    def tick_archive(self, retry: RetryPolicy | None = None) -> TickArchive | None:
        """The S3 archive of raw ticks, if this configuration names a bucket."""
        if self.ticks_bucket is None:
            return None
        config = (retry or RetryPolicy()).botocore_config(max_pool_connections=32)
        return TickArchive(s3_client(self.region, self.s3_endpoint_url, config), self.ticks_bucket)


def _seconds(query: dict[str, str], name: str, default: float) -> float:
    text = query.get(name)
    if text is None:
        return default
    try:
        seconds = float(text) if len(text) <= 12 else -1.0
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise ValidationError(name, text, "must be a number of seconds from 0 to 3600")
    return seconds
