"""An ``authz/`` folder (the model and its tuple files) served by the embedded engine and reloaded when it changes.

``FgaAuthorizer.from_authz_dir`` builds one; a reload that fails keeps the previous version serving and says why.
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
import time
from typing import Any, Callable, Sequence

from mcp_grpc.authz.backend import CheckRequest, CheckResult
from mcp_grpc.authz.cache import DecisionCache, ModelIndex
from mcp_grpc.authz.engine.errors import FgaError
from mcp_grpc.authz.files import ModelFileError, TupleFileError, load_model_file, load_tuples, tuple_line

__all__ = ["AuthzDirectory", "MODEL_FILE_NAMES", "TUPLE_FILE_GLOBS"]

log = logging.getLogger("mcp_grpc.authz.authorizer")


MODEL_FILE_NAMES = ("model.fga", "fga.mod", "model.json")
TUPLE_FILE_GLOBS = ("tuples*.yaml", "tuples*.yml", "tuples*.json", "tuples*.jsonl", "tuples*.csv")


class AuthzDirectory:
    """The embedded engine over an ``authz/`` folder, as an ``AuthorizationBackend`` that reloads itself.

    Files: the model is ``model.fga``, ``fga.mod`` (modular) or ``model.json``, the first found; the tuples are
    every ``tuples*.yaml|yml|json|jsonl|csv`` file (so ``tuples.yaml`` plus, say, ``tuples-prod.yaml``). Store tests
    (``*.fga.yaml``) are not loaded.

    Loading validates every tuple against the model (OpenFGA's write rules); the first load raises on any error, a
    later reload that fails is logged and the last good version keeps serving. A reload builds a whole new engine and
    swaps it in one assignment, so a check never sees a half-loaded store. ``maybe_reload`` stats the files at most
    every ``reload_interval`` seconds. Writes through ``engine.write(...)`` invalidate exactly the affected cache
    entries (the store's change listener feeds ``DecisionCache.on_tuples_changed``); a reload clears the cache.
    """

    def __init__(
        self,
        path: pathlib.Path,
        *,
        reload_interval: float = 1.0,
        cache: DecisionCache | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = pathlib.Path(path)
        if not self.path.is_dir():
            raise FileNotFoundError(f"authorization directory {self.path} does not exist")
        self.reload_interval = reload_interval
        self.cache = cache
        self._clock = clock
        self._lock = asyncio.Lock()
        self._last_stat = clock()
        self.last_error: str | None = None
        self.generation = 0
        signature = self._signature()
        self._install(self._load(signature), signature)

    # -- files -----------------------------------------------------------------------------------------------------

    def model_file(self) -> pathlib.Path:
        for name in MODEL_FILE_NAMES:
            candidate = self.path / name
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(f"no model in {self.path}: expected one of {', '.join(MODEL_FILE_NAMES)}")

    def tuple_files(self) -> list[pathlib.Path]:
        found = {p for pattern in TUPLE_FILE_GLOBS for p in self.path.glob(pattern) if p.is_file()}
        return sorted(p for p in found if not p.name.endswith(".fga.yaml"))

    def _signature(self) -> tuple[tuple[str, int, int], ...]:
        files = [self.model_file(), *self.tuple_files()]
        if files[0].name == "fga.mod":  # a modular model's modules are any .fga file beside it
            files += sorted(self.path.rglob("*.fga"))
        out = []
        for f in files:
            st = f.stat()
            out.append((str(f), st.st_mtime_ns, st.st_size))
        return tuple(out)

    def _load(self, signature: Any) -> tuple[Any, Any, Callable[[], None], ModelIndex]:
        from mcp_grpc.authz.engine import EmbeddedBackend, Engine

        model = load_model_file(self.model_file())
        engine = Engine()
        try:
            engine.write_model(model)
        except FgaError as exc:  # the files parsed but the engine refuses the model (e.g. a cycle)
            raise ModelFileError(self.model_file(), exc.message) from None
        tuples = []
        for file in self.tuple_files():
            file_tuples = load_tuples(file)
            try:
                engine.write(file_tuples)
            except FgaError as exc:
                raise _located(engine, file, file_tuples, exc) from None
            tuples.extend(file_tuples)
        remove = lambda: None  # noqa: E731
        if self.cache is not None:
            cache = self.cache

            def on_change(event: Any) -> None:
                if event.kind == "write":
                    cache.on_tuples_changed(event.writes, event.deletes)
                else:  # a new model or a wholesale load: answers and key shapes may change
                    cache.clear()

            remove = engine.store.add_listener(on_change)
        log.info("loaded authorization model and %d tuples from %s", len(tuples), self.path)
        return EmbeddedBackend(engine), engine, remove, ModelIndex(model)

    def _install(self, loaded: tuple[Any, Any, Callable[[], None], ModelIndex], signature: Any) -> None:
        """Swap in a loaded version, then reset the cache (its epoch keeps in-flight answers of the old one out)."""
        old_remove = getattr(self, "_remove_listener", None)
        self._backend, self.engine, self._remove_listener, index = loaded
        self._signature_loaded = signature
        self.generation += 1
        if self.cache is not None:
            self.cache.set_model_index(index)
        if old_remove is not None:
            old_remove()

    async def maybe_reload(self) -> bool:
        """Reload when a file changed (checked at most every ``reload_interval`` s). True when a reload happened."""
        now = self._clock()
        if now - self._last_stat < self.reload_interval:
            return False
        async with self._lock:
            if self._clock() - self._last_stat < self.reload_interval:
                return False
            self._last_stat = self._clock()
            try:
                signature = self._signature()
            except OSError as exc:
                self._reload_failed(f"cannot read {self.path}: {exc}")
                return False
            if signature == self._signature_loaded:
                return False
            try:
                loaded = await asyncio.to_thread(self._load, signature)
            except Exception as exc:  # noqa: BLE001 - keep serving the last good version
                self._reload_failed(f"{type(exc).__name__}: {exc}")
                self._signature_loaded = signature  # do not retry the same broken files every interval
                return False
            self._install(loaded, signature)
            self.last_error = None
            return True

    def _reload_failed(self, reason: str) -> None:
        self.last_error = reason
        log.error("authorization files in %s not reloaded, the previous version keeps serving: %s", self.path, reason)

    # -- AuthorizationBackend ------------------------------------------------------------------------------------

    async def check(self, request: CheckRequest, *, consistency: str | None = None) -> CheckResult:
        return await self._backend.check(request, consistency=consistency)

    async def batch_check(
        self, requests: Sequence[CheckRequest], *, consistency: str | None = None
    ) -> list[CheckResult]:
        return await self._backend.batch_check(requests, consistency=consistency)

    async def list_objects(self, user: str, relation: str, object_type: str, **kwargs: Any) -> Any:
        return await self._backend.list_objects(user, relation, object_type, **kwargs)

    async def list_users(self, object: str, relation: str, user_filters: Sequence[str], **kwargs: Any) -> Any:
        return await self._backend.list_users(object, relation, user_filters, **kwargs)

    async def read_authorization_model(self) -> dict[str, Any]:
        return dict(self.engine.store.snapshot().model().model)

    async def close(self) -> None:
        self._remove_listener()
        await self._backend.close()


def _located(engine: Any, file: pathlib.Path, tuples: Sequence[Any], error: FgaError) -> TupleFileError:
    """The engine's refusal of a file's tuples, at the first tuple it refuses on its own (file, line, index). A
    tuple that is valid alone but not with the others (a duplicate) keeps the engine's message, at the file."""
    for index, key in enumerate(tuples):
        try:
            engine.write([key])
        except FgaError as alone:
            return TupleFileError(file, alone.message, index=index, line=tuple_line(file, index))
        engine.delete([key])
    return TupleFileError(file, error.message)
