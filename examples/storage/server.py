"""The storage example: files in buckets, where the BUCKET ARGUMENT decides who may read or write.

Every call is checked twice, in one OpenFGA BatchCheck: ``can_call`` on the tool (the server's default), and the check
the tool declares from its validated arguments, ``can_read``/``can_write`` on ``bucket:{bucket}``. The tuples in
``examples/storage/authz/`` give team analytics read access to ``events`` and team finance read and write access to
``ledgers``; nobody else gets anything.

    mcp-grpc serve examples/storage/server.py:app --spiffe-socket DIR/storage-server.sock \
        --authz-dir examples/storage/authz --port 50053
"""

from __future__ import annotations

import threading
from typing import Annotated

from pydantic import BaseModel, Field

from mcp_grpc.contract import Check
from mcp_grpc.server import McpApp, ToolAnnotations

app = McpApp("storage", instructions="Files in buckets: list, read and write, as far as your bucket grants go.")

# Bucket names are validated before any check runs; they are also OpenFGA object ids, so keep them to
# characters OpenFGA accepts.
Bucket = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="The bucket, e.g. events.")]
Path = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", max_length=256, description="A file path in the bucket."),
]

_lock = threading.Lock()
_BUCKETS: dict[str, dict[str, str]] = {
    "events": {
        "2026-11-01.jsonl": '{"event": "signup", "count": 42}\n',
        "2026-11-02.jsonl": '{"event": "signup", "count": 57}\n',
    },
    "ledgers": {"2026-q3.csv": "account,amount\nrevenue,1200000\n"},
    "archive": {"2019.tar": "(old)"},
}


class Written(BaseModel):
    bucket: str
    path: str
    size: int


@app.tool(
    annotations=ToolAnnotations(read_only=True, idempotent=True),
    authorize=[Check("can_read", "bucket:{bucket}")],
)
def list_files(bucket: Bucket) -> list[str]:
    """List the files of a bucket you may read."""
    with _lock:
        if bucket not in _BUCKETS:
            raise KeyError(f"no bucket {bucket}")
        return sorted(_BUCKETS[bucket])


@app.tool(
    annotations=ToolAnnotations(read_only=True, idempotent=True),
    authorize=[Check("can_read", "bucket:{bucket}")],
)
def read_file(bucket: Bucket, path: Path) -> str:
    """Read one file from a bucket you may read."""
    with _lock:
        try:
            return _BUCKETS[bucket][path]
        except KeyError:
            raise KeyError(f"no file {path} in bucket {bucket}") from None


@app.tool(
    annotations=ToolAnnotations(read_only=False, destructive=True, idempotent=True),
    authorize=[Check("can_write", "bucket:{bucket}")],
)
def write_file(
    bucket: Bucket,
    path: Path,
    content: Annotated[str, Field(max_length=65536, description="The new content (replaces the file).")],
) -> Written:
    """Create or replace a file in a bucket you may write."""
    with _lock:
        if bucket not in _BUCKETS:
            raise KeyError(f"no bucket {bucket}")
        _BUCKETS[bucket][path] = content
    return Written(bucket=bucket, path=path, size=len(content.encode()))
