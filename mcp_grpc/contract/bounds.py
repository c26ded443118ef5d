"""How much caller-controlled text may travel on: into audit records, log lines and the errors sent back.

A caller chooses tool names, argument names and values, URIs and the text the server echoes in its errors; none of
it may make an audit line, a log line or an error larger than a small bound (a 410 KiB argument name once made a
566 KiB audit record). ``clip`` is the one place that bounds a string; ``clip_json`` bounds a JSON value (what an
audit record shows of arguments). Both keep short input unchanged and cost one ``len`` then.
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["MAX_ITEMS", "MAX_MESSAGE", "MAX_NAME", "MAX_VALUE", "clip", "clip_json"]

MAX_NAME = 256
"""A name chosen by the caller: a tool, prompt or argument name, a URI, an object id."""
MAX_MESSAGE = 2048
"""A reason or an error message (which may quote several names)."""
MAX_VALUE = 256
"""One string value of an argument, as an audit record shows it."""
MAX_ITEMS = 64
"""Entries of one object or list (or argument names) an audit record shows."""
_MAX_DEPTH = 8


def clip(text: str, limit: int = MAX_NAME) -> str:
    """``text`` if it has at most ``limit`` characters, else its first ``limit`` and how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...[{len(text) - limit} more characters]"


def clip_json(value: Any, *, depth: int = 0) -> Any:
    """A JSON value with every string clipped to ``MAX_VALUE`` (keys to ``MAX_NAME``), at most ``MAX_ITEMS`` entries
    per object or list, nested at most 8 deep; what is cut is counted under the key ``"..."`` or as a last item."""
    if isinstance(value, str):
        return clip(value, MAX_VALUE)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if depth >= _MAX_DEPTH:
        return "...[nested too deep]"
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for index, (key, item) in enumerate(value.items()):
            if index == MAX_ITEMS:
                out["..."] = f"[{len(value) - MAX_ITEMS} more entries]"
                break
            out[clip(str(key))] = clip_json(item, depth=depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        items = [clip_json(item, depth=depth + 1) for item in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            items.append(f"...[{len(value) - MAX_ITEMS} more items]")
        return items
    return clip(str(value), MAX_VALUE)
