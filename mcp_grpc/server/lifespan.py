"""What an application runs around serving: lifespan context managers and startup/shutdown hooks.

    @contextlib.asynccontextmanager
    async def lifespan(app):
        app.db = await connect()     # before the server accepts calls
        yield
        await app.db.close()         # after the drain

    app = McpApp("files", lifespan=lifespan)

    @app.on_startup
    async def warm_cache() -> None: ...

The server runtime enters every registered lifespan, in registration order, before it starts serving, and exits them
in reverse order after the calls in flight drained. A hook or lifespan that raises on the way in stops the start: the
ones already entered are exited and the server raises ``StartupError`` naming the failing hook.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from typing import Any, AsyncContextManager, AsyncIterator, Callable

__all__ = ["Entered", "Lifespan", "LifespanFactory", "StartupError"]

log = logging.getLogger("mcp_grpc.server")

#: Called with the application; returns an async context manager (``contextlib.asynccontextmanager``).
LifespanFactory = Callable[[Any], AsyncContextManager[Any]]


class StartupError(RuntimeError):
    """A startup hook or lifespan of the application failed: the server did not start serving."""


def _describe(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


async def _call(fn: Callable[[], Any]) -> None:
    result = fn()
    if inspect.isawaitable(result):
        await result


class Lifespan:
    """The lifespans and hooks of one application, entered together by ``run``.

    ``on_startup`` and ``on_shutdown`` take functions of no argument, plain or ``async``; a lifespan factory takes
    the application. Shutdown hooks run in the reverse order of registration, like the lifespans' exits.
    """

    def __init__(self) -> None:
        self._entries: list[tuple[str, LifespanFactory]] = []

    def __bool__(self) -> bool:
        return bool(self._entries)

    def add(self, factory: LifespanFactory, *, name: str | None = None) -> None:
        """Register a lifespan: ``factory(app)`` is entered at startup and exited at shutdown."""
        if not callable(factory):
            raise TypeError(f"a lifespan is a callable taking the app, not {type(factory).__name__}")
        self._entries.append((name or f"lifespan {_describe(factory)}", factory))

    def on_startup(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """Run ``fn()`` before the server accepts calls."""

        @contextlib.asynccontextmanager
        async def startup(_app: Any) -> AsyncIterator[None]:
            await _call(fn)
            yield

        self.add(startup, name=f"startup hook {_describe(fn)}")
        return fn

    def on_shutdown(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """Run ``fn()`` after the server drained its calls."""

        @contextlib.asynccontextmanager
        async def shutdown(_app: Any) -> AsyncIterator[None]:
            yield
            await _call(fn)

        self.add(shutdown, name=f"shutdown hook {_describe(fn)}")
        return fn

    async def enter(self, app: Any) -> "Entered":
        """Enter every lifespan, in registration order; ``Entered.exit`` exits them.

        Raises ``StartupError`` (the cause chained) after exiting those already entered when one fails.
        """
        entered = Entered()
        for name, factory in self._entries:
            try:
                manager = factory(app)
                await manager.__aenter__()
            except Exception as exc:  # noqa: BLE001 - any failure stops the start, with its name
                await entered.exit()
                raise StartupError(f"{name} failed at startup: {type(exc).__name__}: {exc}") from exc
            entered.managers.append((name, manager))
        return entered


class Entered:
    """The lifespans ``Lifespan.enter`` entered, exited once by ``exit``."""

    def __init__(self) -> None:
        self.managers: list[tuple[str, AsyncContextManager[Any]]] = []

    async def exit(self) -> None:
        """Exit them in reverse order; one that fails is logged and the others still exit (the server stops)."""
        while self.managers:
            name, manager = self.managers.pop()
            try:
                await manager.__aexit__(None, None, None)
            except Exception:  # noqa: BLE001 - shutdown goes on
                log.exception("%s failed at shutdown", name)
