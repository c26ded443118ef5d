"""The sealed ``request_state`` of multi round-trip requests: what a retry may trust from the earlier rounds.

When a handler needs input, the server answers INPUT_REQUIRED with ``request_state``; the client echoes it back,
unread, with its answers. The client is the attacker's side of that echo, so the state is sealed with AES-256-GCM
(``cryptography``) under the server's keys and carries its own binding: the caller's SPIFFE ID, the server, the
target (kind and name), a digest of the arguments, an expiry and a single-use id. Opening a state checks each;
whatever fails is a ``StateRefused`` with its status:

- not ours, altered, truncated, expired, or issued for another target or other arguments: INVALID_ARGUMENT;
- issued to another caller: PERMISSION_DENIED;
- used before (a replay): INVALID_ARGUMENT;
- more outstanding states than this server remembers: RESOURCE_EXHAUSTED.

``RequestStateKeys`` is the key ring: the first key seals, every key opens, so keys rotate without breaking flows in
progress (add the new key second, then first, then drop the old one after the time to live). Without configured keys a
server seals with a random key of its own, which only that process can open. The single-use record is per process
too: replicas behind one name need shared keys, and a replay across replicas is caught only within one replica.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import pathlib
import threading
import time
from typing import Any, Callable, Mapping, Sequence

import grpc

from mcp_grpc.contract import AuditDecision

__all__ = ["Claims", "RequestStateKeys", "RequestStateSealer", "StateRefused", "arguments_digest"]

_PREFIX = "mgs1."
_AAD = b"mcp-grpc/request-state/v1"
_KEY_BYTES = 32
_NONCE_BYTES = 12
_ID_BYTES = 4


class StateRefused(Exception):
    """A ``request_state`` that cannot be trusted; ``status`` and ``decision`` say how the call ends."""

    def __init__(self, status: grpc.StatusCode, reason: str, decision: AuditDecision) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.decision = decision


def _invalid(reason: str) -> StateRefused:
    return StateRefused(grpc.StatusCode.INVALID_ARGUMENT, f"request_state: {reason}", AuditDecision.INVALID_ARGUMENT)


class RequestStateKeys:
    """AES-256-GCM keys: ``keys[0]`` seals, every key opens."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if not keys:
            raise ValueError("request_state keys: at least one key is needed")
        ring: dict[bytes, Any] = {}
        for index, key in enumerate(keys):
            if not isinstance(key, (bytes, bytearray)) or len(key) != _KEY_BYTES:
                raise ValueError(f"request_state key {index + 1}: must be {_KEY_BYTES} bytes")
            ring.setdefault(hashlib.sha256(bytes(key)).digest()[:_ID_BYTES], AESGCM(bytes(key)))
        self._ring = ring
        self._sealing = hashlib.sha256(bytes(keys[0])).digest()[:_ID_BYTES]

    @classmethod
    def ephemeral(cls) -> "RequestStateKeys":
        """A random key of this process's own."""
        return cls([os.urandom(_KEY_BYTES)])

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> "RequestStateKeys":
        """One key per line, 64 hex digits or base64 of 32 bytes; ``#`` comments and blank lines are skipped. The
        first key seals. A bad line raises ``ValueError`` naming ``file:line`` (never the key)."""
        file = pathlib.Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{file}: cannot read request_state keys: {exc}") from None
        keys: list[bytes] = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            key = _decode_key(line)
            if key is None:
                raise ValueError(f"{file}:{number}: not a key: expected 64 hex digits or base64 of {_KEY_BYTES} bytes")
            keys.append(key)
        if not keys:
            raise ValueError(f"{file}: no request_state keys in the file")
        return cls(keys)

    def seal(self, payload: bytes) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ring[self._sealing].encrypt(nonce, payload, _AAD)
        return _PREFIX + base64.urlsafe_b64encode(self._sealing + nonce + sealed).decode("ascii").rstrip("=")

    def open(self, token: str) -> bytes:
        from cryptography.exceptions import InvalidTag

        if not token.startswith(_PREFIX):
            raise _invalid("not a state this server issued (unknown format)")
        body = token[len(_PREFIX):]
        try:
            raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise _invalid("not a state this server issued (not base64url)") from None
        if len(raw) < _ID_BYTES + _NONCE_BYTES + 16:
            raise _invalid("not a state this server issued (truncated)")
        key = self._ring.get(raw[:_ID_BYTES])
        if key is None:
            raise _invalid("sealed with a key this server does not hold (rotated out, or another server's)")
        try:
            return key.decrypt(raw[_ID_BYTES:_ID_BYTES + _NONCE_BYTES], raw[_ID_BYTES + _NONCE_BYTES:], _AAD)
        except InvalidTag:
            raise _invalid("failed its integrity check (altered or not issued by this server)") from None


def _decode_key(text: str) -> bytes | None:
    if len(text) == 2 * _KEY_BYTES:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == _KEY_BYTES else None


def arguments_digest(arguments: Any) -> str:
    """A digest of a call's arguments as they arrived (canonical JSON), to bind a state to them."""
    text = json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class Claims:
    """What a state says: whose call it belongs to, which round it ends, and the answers of earlier rounds."""

    __slots__ = ("principal", "server", "kind", "name", "digest", "round", "answers", "asked", "expires", "id")

    def __init__(
        self,
        *,
        principal: str,
        server: str,
        kind: str,
        name: str,
        digest: str,
        round: int,
        answers: Mapping[str, Any],
        asked: Mapping[str, str],
        expires: float,
        id: str,
    ) -> None:
        self.principal = principal
        self.server = server
        self.kind = kind
        self.name = name
        self.digest = digest
        self.round = round
        #: Answers of earlier rounds, key -> the protocol's result object.
        self.answers = dict(answers)
        #: What the round that issued this state asked, key -> method.
        self.asked = dict(asked)
        self.expires = expires
        self.id = id

    def to_json(self) -> dict[str, Any]:
        return {
            "p": self.principal, "s": self.server, "k": self.kind, "n": self.name, "d": self.digest,
            "r": self.round, "a": self.answers, "q": self.asked, "e": self.expires, "i": self.id,
        }

    @classmethod
    def from_json(cls, data: Any) -> "Claims":
        try:
            claims = cls(
                principal=data["p"], server=data["s"], kind=data["k"], name=data["n"], digest=data["d"],
                round=int(data["r"]), answers=data["a"], asked=data["q"], expires=float(data["e"]), id=data["i"],
            )
        except (KeyError, TypeError, ValueError):
            raise _invalid("its contents are not a request state") from None
        if not all(isinstance(v, str) for v in (claims.principal, claims.server, claims.kind, claims.name, claims.id)):
            raise _invalid("its contents are not a request state")
        return claims


class RequestStateSealer:
    """Seals and opens states for one server; remembers the ids of states used, until they expire."""

    def __init__(
        self,
        keys: RequestStateKeys | None = None,
        *,
        ttl: float = 600.0,
        max_bytes: int = 64 * 1024,
        max_outstanding: int = 100_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = keys if keys is not None else RequestStateKeys.ephemeral()
        self.ttl = ttl
        self.max_bytes = max_bytes
        self.max_outstanding = max_outstanding
        self.clock = clock
        self._spent: dict[str, float] = {}
        self._lock = threading.Lock()

    def seal(self, claims: Claims) -> str:
        """The token of ``claims``; ``StateRefused`` (RESOURCE_EXHAUSTED) when the answers so far are too large."""
        payload = json.dumps(claims.to_json(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if len(payload) > self.max_bytes:
            raise StateRefused(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"request_state: the answers so far take {len(payload)} bytes, over this server's limit of "
                f"{self.max_bytes}",
                AuditDecision.ERROR,
            )
        return self.keys.seal(payload)

    def new_claims(
        self, *, principal: str, server: str, kind: str, name: str, digest: str, round: int,
        answers: Mapping[str, Any], asked: Mapping[str, str],
    ) -> Claims:
        return Claims(
            principal=principal, server=server, kind=kind, name=name, digest=digest, round=round, answers=answers,
            asked=asked, expires=self.clock() + self.ttl, id=base64.urlsafe_b64encode(os.urandom(12)).decode("ascii"),
        )

    def open(self, token: str, *, principal: str, server: str, kind: str, name: str, digest: str) -> Claims:
        """The claims of ``token`` if it was sealed here for this very call and not used before; spends it."""
        if len(token) > 2 * self.max_bytes:
            raise _invalid(f"{len(token)} characters, more than any state this server issues")
        try:
            claims = Claims.from_json(json.loads(self.keys.open(token)))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise _invalid("its contents are not a request state") from None
        if claims.server != server:
            raise _invalid("issued by another server")
        if claims.principal != principal:
            raise StateRefused(
                grpc.StatusCode.PERMISSION_DENIED,
                "request_state: issued to another caller",
                AuditDecision.DENY,
            )
        if claims.kind != kind or claims.name != name:
            raise _invalid("issued for another call (a different target)")
        if claims.digest != digest:
            raise _invalid("issued for another call (different arguments: a retry must repeat them)")
        now = self.clock()
        if now > claims.expires:
            raise _invalid(f"expired {now - claims.expires:.0f}s ago (states live {self.ttl:g}s)")
        self._spend(claims.id, claims.expires, now)
        return claims

    def _spend(self, state_id: str, expires: float, now: float) -> None:
        with self._lock:
            spent = self._spent
            if state_id in spent:
                raise _invalid("already used (a state answers one retry; use the newest one)")
            if len(spent) >= self.max_outstanding:
                for old in [key for key, until in spent.items() if until < now]:
                    del spent[old]
                if len(spent) >= self.max_outstanding:
                    raise StateRefused(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        f"request_state: {len(spent)} states in use, this server's limit; retry later",
                        AuditDecision.LIMITED,
                    )
            spent[state_id] = expires
