"""OpenFGA conditions: typed parameters and CEL evaluation.

A condition is compiled once per model (:class:`CompiledCondition`). Evaluating it for one tuple merges the request
context with the tuple's context (the tuple's value wins), converts every declared parameter to its declared type,
and runs the CEL program. As in OpenFGA, a declared parameter missing from both contexts is an error even when the
expression would not need it, a value that does not convert is an error, and a result that is not a bool is an error.

CEL library choice. ``bench/authz_engine.py --cel`` runs OpenFGA's conformance files that carry conditions
(abac, check matrix, list-objects matrix: 4,956 assertions) with each candidate evaluating the conditions, and times
one evaluation of already-typed values. All three pass 4,956/4,956. Per evaluation on this 2-core machine (shared,
load 5-9, so absolute numbers are inflated; best of 5 runs): ``x < 100``: ``common-expression-language`` (Rust,
``cel``) 0.35-1.5 µs, ``cel-expr-python`` (Google's C++ CEL) 4-25 µs, ``cel-python`` (pure Python, ``celpy``)
180-900 µs. The Rust library is the fastest by a wide margin and is kept (pyproject lists it). It is dynamically
typed, so parameter typing is done here before evaluation, following OpenFGA's conversion rules; the ``ipaddress``
type is passed to CEL as its canonical string and ``in_cidr`` is registered as a function (CEL's receiver-call
syntax ``ip.in_cidr(cidr)`` resolves to it). Each condition is compiled once per model version.

Both CEL libraries are the optional extra ``conditions`` (``pip install 'mcp-grpc[conditions]'``) and are imported
when a model first declares a condition: a model without one (most) needs neither, and ``import cel`` alone loads
its command line (typer, rich, prompt_toolkit: ~0.3 s of a server's start). ``common-expression-language`` 0.10 has
no type checker (``compile`` takes only the expression; a ``Program`` offers ``execute``, ``functions``,
``references`` and ``variables``, never declared types), so the check below stays with ``cel-expr-python``.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import ipaddress
import math
import re
from typing import Any, Callable, Mapping

from mcp_grpc.contract.extras import require

__all__ = [
    "CompiledCondition", "ConditionError", "ParamType", "check_condition", "compile_condition", "parse_go_duration",
]


class ConditionError(Exception):
    """A condition could not be evaluated (bad expression, missing or ill-typed parameter, non-bool result)."""


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_UINT64_MAX = 2**64 - 1


@dataclasses.dataclass(frozen=True, slots=True)
class ParamType:
    """A declared parameter type: ``name`` is OpenFGA's TYPE_NAME_* suffix in lower case; ``generic`` for list/map."""

    name: str
    generic: "ParamType | None" = None

    @classmethod
    def from_json(cls, spec: Mapping[str, Any]) -> "ParamType":
        raw = str(spec.get("type_name", ""))
        name = raw.removeprefix("TYPE_NAME_").lower()
        if name not in _CONVERTERS and name not in ("list", "map"):
            raise ConditionError(f"unsupported parameter type {raw!r}")
        generic = None
        if name in ("list", "map"):
            generics = spec.get("generic_types") or []
            if len(generics) != 1:
                raise ConditionError(f"parameter type {name} needs exactly one generic type")
            generic = cls.from_json(generics[0])
        return cls(name, generic)

    def __str__(self) -> str:
        return f"{self.name}<{self.generic}>" if self.generic else self.name

    def convert(self, value: Any) -> Any:
        """Convert a JSON-ish value to the Python value handed to CEL; raise ConditionError when it does not fit."""
        if self.name == "list":
            if not isinstance(value, (list, tuple)):
                raise ConditionError(f"expected a list, got {type(value).__name__}")
            assert self.generic is not None
            return [self.generic.convert(item) for item in value]
        if self.name == "map":
            if not isinstance(value, Mapping):
                raise ConditionError(f"expected a map, got {type(value).__name__}")
            assert self.generic is not None
            return {str(k): self.generic.convert(v) for k, v in value.items()}
        return _CONVERTERS[self.name](value)


def _to_int(value: Any, lo: int, hi: int, what: str) -> int:
    if isinstance(value, bool):
        raise ConditionError(f"expected {what}, got bool")
    if isinstance(value, int):
        result = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ConditionError(f"expected {what}, got non-integral number {value!r}")
        result = int(value)
    elif isinstance(value, str):
        try:
            result = int(value.strip(), 10)
        except ValueError:
            raise ConditionError(f"expected {what}, got string {value!r}") from None
    else:
        raise ConditionError(f"expected {what}, got {type(value).__name__}")
    if not lo <= result <= hi:
        raise ConditionError(f"{what} value {result} out of range")
    return result


def _to_double(value: Any) -> float:
    if isinstance(value, bool):
        raise ConditionError("expected double, got bool")
    if isinstance(value, (int, float)):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value)
        except ValueError:
            raise ConditionError(f"expected double, got string {value!r}") from None
    else:
        raise ConditionError(f"expected double, got {type(value).__name__}")
    if not math.isfinite(result):
        raise ConditionError(f"double value {value!r} out of range")
    return result


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ConditionError(f"expected bool, got {type(value).__name__}")


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise ConditionError(f"expected string, got {type(value).__name__}")


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise ConditionError(f"expected bytes, got {type(value).__name__}")


_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_GO_DURATION_UNITS = {
    "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0,
}


def parse_go_duration(text: str) -> datetime.timedelta:
    """Parse a Go ``time.ParseDuration`` string (``1h30m``, ``-1.5s``, ``300ms``, ``0``)."""
    s = text.strip()
    sign = 1.0
    if s[:1] in "+-" and s:
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return datetime.timedelta(0)
    if not s:
        raise ConditionError(f"invalid duration {text!r}")
    pos, seconds = 0, 0.0
    while pos < len(s):
        match = _GO_DURATION_PART.match(s, pos)
        if match is None:
            raise ConditionError(f"invalid duration {text!r}")
        seconds += float(match.group(1)) * _GO_DURATION_UNITS[match.group(2)]
        pos = match.end()
    return datetime.timedelta(seconds=sign * seconds)


def _to_duration(value: Any) -> datetime.timedelta:
    if isinstance(value, datetime.timedelta):
        return value
    if isinstance(value, str):
        return parse_go_duration(value)
    raise ConditionError(f"expected duration string, got {type(value).__name__}")


def _to_timestamp(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    if not isinstance(value, str):
        raise ConditionError(f"expected RFC 3339 timestamp string, got {type(value).__name__}")
    text = value.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", text):
        raise ConditionError(f"invalid RFC 3339 timestamp {value!r}")
    text = text.replace("z", "Z").replace("t", "T")
    # Python's fromisoformat accepts at most 6 fractional digits; RFC 3339 allows nanoseconds.
    text = re.sub(r"\.(\d{6})\d+", r".\1", text)
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConditionError(f"invalid RFC 3339 timestamp {value!r}") from None


def _to_ipaddress(value: Any) -> str:
    if not isinstance(value, str):
        raise ConditionError(f"expected IP address string, got {type(value).__name__}")
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ConditionError(f"invalid IP address {value!r}") from None


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "int": lambda v: _to_int(v, _INT64_MIN, _INT64_MAX, "int"),
    "uint": lambda v: _to_int(v, 0, _UINT64_MAX, "uint"),
    "double": _to_double,
    "bool": _to_bool,
    "string": _to_string,
    "bytes": _to_bytes,
    "duration": _to_duration,
    "timestamp": _to_timestamp,
    "ipaddress": _to_ipaddress,
    "any": lambda v: v,
}


@functools.lru_cache(maxsize=1024)
def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr, strict=False)


@functools.lru_cache(maxsize=4096)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def _in_cidr(address: Any, cidr: Any) -> bool:
    """OpenFGA's ``ipaddress.in_cidr(string)`` extension (parsed networks and addresses are memoised)."""
    try:
        return _address(str(address)) in _network(str(cidr))
    except ValueError as exc:
        raise ValueError(f"in_cidr: {exc}") from None


def _ipaddress_fn(text: Any) -> str:
    return _to_ipaddress(text)


_FUNCTIONS: dict[str, Callable[..., Any]] = {"in_cidr": _in_cidr, "ipaddress": _ipaddress_fn}


@dataclasses.dataclass(frozen=True, slots=True)
class CompiledCondition:
    """One model condition, compiled once."""

    name: str
    expression: str
    parameters: Mapping[str, ParamType]
    program: Any = dataclasses.field(repr=False, compare=False)
    uses_extensions: bool = dataclasses.field(default=True, repr=False, compare=False)
    """Whether the expression calls OpenFGA's CEL extensions (``in_cidr``, ``ipaddress``)."""

    def bind(
        self, request_context: Mapping[str, Any] | None, tuple_context: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """The typed values CEL sees: request context overlaid by the tuple's context, declared parameters only."""
        values: dict[str, Any] = {}
        missing: list[str] = []
        for pname, ptype in self.parameters.items():
            if tuple_context is not None and pname in tuple_context:
                raw = tuple_context[pname]
            elif request_context is not None and pname in request_context:
                raw = request_context[pname]
            else:
                missing.append(pname)
                continue
            try:
                values[pname] = ptype.convert(raw)
            except ConditionError as exc:
                raise ConditionError(
                    f"condition {self.name!r}: parameter {pname!r} is not a valid {ptype}: {exc}"
                ) from None
        if missing:
            raise ConditionError(
                f"condition {self.name!r}: missing context parameter(s) {', '.join(sorted(missing))}"
            )
        return values

    def evaluate(
        self, request_context: Mapping[str, Any] | None, tuple_context: Mapping[str, Any] | None
    ) -> bool:
        """True or False; raises :class:`ConditionError` when the condition cannot be evaluated."""
        values = self.bind(request_context, tuple_context)
        return self.evaluate_bound(values)

    def evaluate_bound(self, values: Mapping[str, Any]) -> bool:
        try:
            if self.uses_extensions:
                result = self.program.execute(_cel().Context(variables=dict(values), functions=_FUNCTIONS))
            else:
                result = self.program.execute(values)
        except Exception as exc:  # the CEL library raises RuntimeError/TypeError/ValueError/ZeroDivisionError
            raise ConditionError(f"condition {self.name!r} failed to evaluate: {exc}") from None
        if not isinstance(result, bool):
            raise ConditionError(
                f"condition {self.name!r} returned {type(result).__name__}, expected bool"
            )
        return result


# -- type checking, as an OpenFGA server does on model write ---------------------------------------------------------
#
# The evaluating library above is dynamically typed, so it cannot tell that an expression names an undeclared
# parameter or compares an int with a string. OpenFGA compiles each condition with cel-go against the declared
# parameters and refuses the model on any issue, or when the expression is not a bool. Google's C++ CEL
# (``cel-expr-python``) runs the same checker with the same messages, so it checks here; it never evaluates.


_NEEDED_BY = "an authorization model with conditions"


@functools.lru_cache(maxsize=1)
def _cel() -> Any:
    """The evaluating library (``common-expression-language``), imported by the first condition compiled."""
    return require("cel", extra="conditions", needed_by=_NEEDED_BY, what="CEL (common-expression-language)")


def _cel_checker() -> Any:
    # imported on first use: its first environment costs ~50 ms
    return require("cel_expr_python.cel", extra="conditions", needed_by=_NEEDED_BY,
                   what="the CEL type checker (cel-expr-python)")


@functools.lru_cache(maxsize=1)
def _openfga_declarations() -> tuple[Any, list[Any]]:
    """OpenFGA's CEL extensions: the opaque ``IPAddress`` type, ``ipaddress(string)`` and ``ip.in_cidr(string)``."""
    checker = _cel_checker()
    ip_type = checker.Type.AbstractType("IPAddress")
    functions = [
        checker.FunctionDecl("ipaddress", [checker.Overload(
            "string_to_ipaddress", return_type=ip_type, parameters=[checker.Type.STRING])]),
        checker.FunctionDecl("in_cidr", [checker.Overload(
            "ipaddress_in_cidr_string", return_type=checker.Type.BOOL, parameters=[ip_type, checker.Type.STRING],
            is_member=True)]),
    ]
    return ip_type, functions


def _checker_type(ptype: ParamType) -> Any:
    types = _cel_checker().Type
    if ptype.name == "list":
        assert ptype.generic is not None
        return types.List(_checker_type(ptype.generic))
    if ptype.name == "map":
        assert ptype.generic is not None
        return types.Map(types.STRING, _checker_type(ptype.generic))
    if ptype.name == "ipaddress":
        return _openfga_declarations()[0]
    return {
        "int": types.INT, "uint": types.UINT, "double": types.DOUBLE, "bool": types.BOOL, "string": types.STRING,
        "bytes": types.BYTES, "duration": types.DURATION, "timestamp": types.TIMESTAMP, "any": types.DYN,
    }[ptype.name]


_CHECKER_TYPE_NAMES = {
    "INT": "int", "UINT": "uint", "DOUBLE": "double", "BOOL": "bool", "STRING": "string", "BYTES": "bytes",
    "NULL": "null_type", "DYN": "dyn", "DURATION": "google.protobuf.Duration",
    "TIMESTAMP": "google.protobuf.Timestamp", "LIST": "list", "MAP": "map", "TYPE": "type",
}


def _go_type_name(name: str) -> str:
    """A checker type as cel-go prints it (``LIST<INT>`` -> ``list(int)``), as OpenFGA's messages show it."""
    words = re.sub(r"[A-Za-z_][A-Za-z0-9_.]*", lambda m: _CHECKER_TYPE_NAMES.get(m.group(0), m.group(0)), name)
    return words.replace("<", "(").replace(">", ")")


def check_condition(
    name: str, expression: str, parameters: Mapping[str, ParamType], *, require_bool: bool = False
) -> None:
    """Type-check ``expression`` against the declared ``parameters`` as an OpenFGA server does on model write.

    Raises :class:`ConditionError` with OpenFGA's message, e.g. ``failed to compile expression on condition 'c' -
    ERROR: c:1:1: undeclared reference to 'amount' (in container '')``: a syntax error, a name that is neither a
    declared parameter nor a standard CEL macro or function (or OpenFGA's ``ipaddress``/``in_cidr``), an operator
    applied to types it has no overload for.

    ``require_bool`` also refuses an expression whose type is not bool (``... - expected a bool condition expression
    output, but got 'int'``), as OpenFGA does on write. It is off by default because the engine reports a non-bool
    result per check instead (an error, code 2000), which its rule tests pin.
    """
    checker = _cel_checker()
    _, functions = _openfga_declarations()
    variables = {pname: _checker_type(ptype) for pname, ptype in parameters.items()}
    try:
        env = checker.NewEnv(variables=variables, functions=functions)
        output = env.compile(expression).return_type()
    except Exception as exc:  # noqa: BLE001 - the checker raises RuntimeError("INVALID_ARGUMENT: ERROR: ...")
        detail = str(exc).strip()
        detail = re.sub(r"^[A-Z_]+: ", "", detail)
        detail = re.sub(r"\s*\[[A-Z_]+\]$", "", detail)
        detail = detail.replace("<input>:", f"{name}:")
        # cel-go names the null type 'null' inside overload errors (and 'null_type' elsewhere).
        detail = re.sub(r"(applied to '\([^']*)'", lambda m: m.group(0).replace("null_type", "null"), detail)
        raise ConditionError(f"failed to compile expression on condition '{name}' - {detail}") from None
    if require_bool and output != checker.Type.BOOL:
        raise ConditionError(
            f"failed to compile expression on condition '{name}' - expected a bool condition expression output, "
            f"but got '{_go_type_name(output.name())}'"
        )


def compile_condition(name: str, spec: Mapping[str, Any]) -> CompiledCondition:
    """Compile one entry of the model's ``conditions`` map; raises ConditionError on a bad expression or type.

    The expression is type-checked against the declared parameters first (:func:`check_condition`), so a model
    the engine accepts is one an OpenFGA server accepts.
    """
    expression = str(spec.get("expression", ""))
    params = {pname: ParamType.from_json(pspec) for pname, pspec in (spec.get("parameters") or {}).items()}
    check_condition(name, expression, params, require_bool=True)
    try:
        program = _cel().compile(expression)
    except Exception as exc:
        raise ConditionError(f"condition {name!r}: invalid CEL expression: {exc}") from None
    try:
        uses_extensions = bool(set(program.functions()) & set(_FUNCTIONS))
    except Exception:  # noqa: BLE001 - static analysis is an optimisation only
        uses_extensions = True
    return CompiledCondition(name=name, expression=expression, parameters=params, program=program,
                             uses_extensions=uses_extensions)
