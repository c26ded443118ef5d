"""The embedded OpenFGA evaluation engine: Check, BatchCheck, ListObjects, ListUsers and Explain over an in-memory
tuple store, with OpenFGA's semantics (three-valued results, conditions in CEL, depth limit, cycles, contextual
tuples, validation error codes).

Public API::

    from mcp_grpc.authz.engine import Engine, EmbeddedBackend, FgaError, TupleStore

    engine = Engine()                                     # or Engine(TupleStore()) to share a store
    model_id = engine.write_model(model)                  # JSON dict (``fga model transform`` form) or DSL text
    engine.write([("user:anne", "viewer", "document:1")]) # TupleKey, dict or (user, relation, object)
    engine.check("user:anne", "viewer", "document:1")     # CheckResult(outcome=ALLOWED)
    engine.list_objects("user:anne", "viewer", "document")
    engine.list_users("document:1", "viewer", ["user"])
    engine.explain("user:anne", "viewer", "document:1").render()
    backend = EmbeddedBackend(engine)                     # the async AuthorizationBackend

Modules: ``typesystem`` (the model), ``conditions`` (CEL), ``resolver`` (Check and the three-valued reducers),
``listing`` (ListObjects/ListUsers), ``explain``, ``index`` and ``store`` (tuples, model versions, snapshots),
``engine`` (the synchronous API), ``embedded`` (the async backend), ``errors``.
"""

from .conditions import CompiledCondition, ConditionError
from .embedded import EmbeddedBackend
from .engine import MAX_CONTEXTUAL_TUPLES, Engine
from .errors import FgaError
from .explain import ExplainNode, Explanation
from .resolver import MAX_RESOLUTION_DEPTH
from .store import ChangeEvent, ModelVersion, Snapshot, TupleStore, new_ulid
from .tuples import Tuple, UserRef, parse_object, parse_user
from .typesystem import RelationRef, TypeSystem

__all__ = [
    "ChangeEvent",
    "CompiledCondition",
    "ConditionError",
    "EmbeddedBackend",
    "Engine",
    "ExplainNode",
    "Explanation",
    "FgaError",
    "MAX_CONTEXTUAL_TUPLES",
    "MAX_RESOLUTION_DEPTH",
    "ModelVersion",
    "RelationRef",
    "Snapshot",
    "Tuple",
    "TupleStore",
    "TypeSystem",
    "UserRef",
    "new_ulid",
    "parse_object",
    "parse_user",
]
