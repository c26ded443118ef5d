"""A proto-first storage service served both as typed gRPC and as MCP tools.

    mcp-grpc serve examples/proto_tools/server.py:app --insecure-local --port 50052

``StorageService`` is an ordinary grpc.aio servicer generated from ``protos/acme/storage/v1/storage.proto``;
``app.add_proto_service`` serves it as is and turns the rpcs carrying ``(mcp_grpc.v1.tool)`` into the MCP tools
``list_objects``, ``read_object`` and ``put_object``, and ``GetBucketIndex`` into the resource template
``storage://{bucket}/index``. ``GetStats`` stays typed-only.
"""

from __future__ import annotations

import threading

import grpc

from examples.proto_tools.gen import storage_pb2, storage_pb2_grpc
from mcp_grpc.server import McpApp


class StorageService(storage_pb2_grpc.StorageServiceServicer):
    """An in-memory object store: {bucket: {key: content}}."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, dict[str, str]] = {"docs": {"readme.md": "# Docs\n", "guide.md": "Read me first."}}

    @staticmethod
    def _info(key: str, content: str) -> storage_pb2.ObjectInfo:
        return storage_pb2.ObjectInfo(key=key, size=len(content.encode()))

    async def ListObjects(self, request, context):
        with self._lock:
            objects = sorted(self._buckets.get(request.bucket, {}).items())
        found = [self._info(key, content) for key, content in objects if key.startswith(request.prefix)]
        if request.limit > 0:
            found = found[: request.limit]
        return storage_pb2.ListObjectsResponse(objects=found)

    async def GetObject(self, request, context):
        with self._lock:
            content = self._buckets.get(request.bucket, {}).get(request.key)
        if content is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no object {request.key!r} in bucket {request.bucket!r}")
        return storage_pb2.GetObjectResponse(info=self._info(request.key, content), content=content)

    def PutObject(self, request, context):  # a sync method: runs in the server's thread pool
        # An empty key never gets here: the proto marks it required, and both doors enforce the proto's rules.
        if request.key.endswith("/"):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "a key ending in '/' names a folder, not an object")
        with self._lock:
            self._buckets.setdefault(request.bucket, {})[request.key] = request.content
        return storage_pb2.PutObjectResponse(info=self._info(request.key, request.content))

    async def GetBucketIndex(self, request, context):
        with self._lock:
            if request.bucket not in self._buckets:
                await context.abort(grpc.StatusCode.NOT_FOUND, f"no bucket {request.bucket!r}")
            objects = sorted(self._buckets[request.bucket].items())
        return storage_pb2.GetBucketIndexResponse(objects=[self._info(key, content) for key, content in objects])

    async def GetStats(self, request, context):
        with self._lock:
            return storage_pb2.GetStatsResponse(
                buckets=len(self._buckets), objects=sum(len(objects) for objects in self._buckets.values())
            )


app = McpApp("storage")
storage = StorageService()
app.add_proto_service(storage, storage_pb2.DESCRIPTOR.services_by_name["StorageService"])

if __name__ == "__main__":
    app.serve(insecure_local=True, port=50052)
