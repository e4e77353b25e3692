"""Raw tick chunks in Amazon S3, for DynamoDB deployments that name a ticks bucket.

SPY's lossless second of trades is some 5 KB compressed, so kept in DynamoDB it costs 5 or 6 WRU a second
on one partition key whatever the layout. Here an ingest batch puts all its symbols' chunks in one S3 object
(one PUT per batch, not per symbol), and DynamoDB keeps per symbol and span (ticks.SPAN_MS) only where its
chunk is: an item of about 150 bytes, 1 WRU. Reads fetch a chunk by byte range. Objects expire by the bucket's
lifecycle rule (a day after the items' own TTL, see infra/terraform/ticks.tf), so an item never outlives
its chunk.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from alexdb.domain.errors import BackendError

PREFIX = "ticks/"
ARCHIVE_ACTIONS = frozenset({"GetObject", "PutObject"})  # all it calls: infra/terraform/iam.tf grants these


class TickArchive:
    """Chunks in one bucket: put together as one object, read back one by one by byte range."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client, self.bucket = client, bucket

    def put(self, chunks: Sequence[bytes], first_ms: int) -> list[tuple[str, int, int]]:
        """Store chunks as one new object (named by the day and hour of first_ms, so a listing by time
        is possible); returns each chunk's (key, offset, length)."""
        moment = datetime.fromtimestamp(first_ms / 1000, UTC)
        key = f"{PREFIX}{moment:%Y-%m-%d/%H}/{uuid.uuid4().hex}"
        spans, offset = [], 0
        for chunk in chunks:
            spans.append((key, offset, len(chunk)))
            offset += len(chunk)
        with self._translated("PutObject", key):
            self._client.put_object(Bucket=self.bucket, Key=key, Body=b"".join(chunks))
        return spans

    def get(self, key: str, offset: int, length: int) -> bytes:
        """One chunk; BackendError if its object is gone (a chunk is never silently left out of a read)."""
        with self._translated("GetObject", key):
            data: bytes = self._client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={offset}-{offset + length - 1}")["Body"].read()
        if len(data) != length:
            raise BackendError(f"tick chunk {key} at {offset}: read {len(data)} bytes of {length}")
        return data

    @contextmanager
    def _translated(self, operation: str, key: str) -> Iterator[None]:
        """S3's failures as BackendError naming the bucket and object (botocore retries throttling itself)."""
        try:
            yield
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise BackendError(f"S3 {operation} of {key} in bucket {self.bucket}: {code or exc}") from exc
        except BotoCoreError as exc:
            raise BackendError(f"S3 {operation} of {key} in bucket {self.bucket}: {exc}") from exc


def s3_client(region: str, endpoint_url: str | None, config: Any) -> Any:
    """A boto3 S3 client (path-style addressing for a local endpoint such as tests' s3rver)."""
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {"region_name": region, "config": config}
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
        options["config"] = config.merge(Config(s3={"addressing_style": "path"}))
    return boto3.client("s3", **options)
