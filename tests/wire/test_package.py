"""mcp_grpc.wire's own API: constants and generated modules loaded on first use."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import mcp_grpc.wire as wire


def test_protocol_constants():
    assert wire.SUPPORTED_PROTOCOL_VERSIONS == ("2026-07-28",)
    assert wire.LATEST_PROTOCOL_VERSION == "2026-07-28"
    assert wire.PROTOCOL_VERSION_METADATA_KEY == "mcp-protocol-version"
    assert wire.ERROR_CODE_METADATA_KEY == "mcp-error-code"
    assert (wire.CURSOR_KEY, wire.NEXT_CURSOR_KEY) == ("cursor", "nextCursor")


def test_generated_modules_are_reachable_as_attributes():
    assert wire.mcp_pb2.DESCRIPTOR.services_by_name["Mcp"].full_name == "model_context_protocol.Mcp"
    assert wire.streaming_pb2.DESCRIPTOR.services_by_name["McpStreaming"].full_name == "mcp_grpc.v1.McpStreaming"
    assert hasattr(wire.mcp_pb2_grpc, "McpServicer") and hasattr(wire.streaming_pb2_grpc, "McpStreamingStub")
    assert wire.options_pb2.tool.number == 58301 and wire.options_pb2.resource.number == 58302
    with pytest.raises(AttributeError):
        wire.no_such_module  # noqa: B018


def test_streaming_frames_hold_progress_or_the_final_result():
    frame = wire.streaming_pb2.CallToolStreamResponse(progress={"progress": 2, "message": "copying"})
    assert frame.WhichOneof("frame") == "progress" and not frame.progress.HasField("total")
    frame.result.is_error = True  # setting the result replaces the progress
    assert frame.WhichOneof("frame") == "result" and not frame.HasField("progress")
    event = wire.streaming_pb2.ListenResponse(resource_updated={"uri": "files://a"})
    assert event.WhichOneof("event") == "resource_updated"


def test_importing_the_package_for_its_constants_leaves_room_for_the_published_protos():
    code = textwrap.dedent(
        """
        import importlib.util, sys
        import mcp_grpc.wire
        assert mcp_grpc.wire.SUPPORTED_PROTOCOL_VERSIONS
        if importlib.util.find_spec("mcp_grpc_transport_proto") is None:
            sys.exit(3)
        from mcp_grpc_transport_proto import mcp_pb2  # would fail if ours were already registered
        print(mcp_pb2.DESCRIPTOR.name)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    if done.returncode == 3:
        pytest.skip("mcp-grpc-transport-proto is not installed")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "mcp.proto"


def test_ours_and_the_published_protos_cannot_share_a_process():
    """Why the compatibility tests use a subprocess: protobuf refuses the second definition."""
    code = "import mcp_grpc.wire.mcp_pb2\nimport mcp_grpc_transport_proto.mcp_pb2\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    if "No module named 'mcp_grpc_transport_proto'" in done.stderr:
        pytest.skip("mcp-grpc-transport-proto is not installed")
    assert done.returncode != 0
    assert "model_context_protocol" in done.stderr
