"""``serve`` freezes the start-up heap (``gc.freeze``) once it listens, and calls still get their garbage collected.

Each test runs in a child process: freezing is process-wide and would keep a test session's garbage forever.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SERVE_AND_ASK = textwrap.dedent(
    """
    import asyncio, gc, os, sys, tempfile
    from mcp_grpc.client import AsyncClient
    from mcp_grpc.server import McpApp
    from mcp_grpc.server.runtime import ServerConfig, serve

    app = McpApp("heap")

    @app.tool()
    def frozen() -> int:
        "How many objects the collector no longer walks."
        return gc.get_freeze_count()

    async def main():
        socket = os.path.join(tempfile.mkdtemp(), "s.sock")
        before = gc.get_freeze_count()
        task = asyncio.create_task(serve(app, ServerConfig(uds=socket, insecure_local=True, handle_signals=False,
                                                           drain_seconds=0.1)))
        while not os.path.exists(socket):
            await asyncio.sleep(0.01)
        async with AsyncClient(f"unix:{socket}") as client:
            for _ in range(50):
                result = await client.call_tool("frozen", {})
                if result.structured is not None and result.structured.get("result"):
                    break
                await asyncio.sleep(0.02)
        task.cancel()
        print(before, result.structured["result"])

    asyncio.run(main())
    """
)


def test_serve_freezes_what_start_up_left_alive():
    out = subprocess.run([sys.executable, "-c", SERVE_AND_ASK], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    before, during = (int(n) for n in out.stdout.split())
    assert before == 0
    assert during > 10_000  # the interpreter, grpc, protobuf and the app: far more than any call allocates


def test_cycles_made_after_the_freeze_are_still_collected():
    script = textwrap.dedent(
        """
        import gc, weakref
        from mcp_grpc.server.runtime import freeze_startup_heap

        class Node:
            pass

        freeze_startup_heap()
        frozen = gc.get_freeze_count()
        node = Node()
        node.self = node  # a reference cycle: only the cyclic collector frees it
        alive = weakref.ref(node)
        del node
        gc.collect()
        print(frozen, alive() is None)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    frozen, collected = out.stdout.split()
    assert int(frozen) > 0
    assert collected == "True"
