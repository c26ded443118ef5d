"""Content blocks a tool or a prompt returns besides text: images, audio, embedded resources, resource links.

    @app.tool
    def chart(region: str) -> Image:
        return Image(render_png(region), "image/png")

A tool may return one block, or a list mixing blocks and strings (each string a text block); it then has no
structured content. A tool returning ``bytes`` answers one embedded resource holding them as a blob
(``application/octet-stream``), as binary data has no other place in MCP. A prompt's message may hold any block
(``PromptMessage("user", Image(...))``). On the wire each block is its field of Google's ``Content`` / ``PromptMessage``
(bytes as bytes, not base64).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from typing import Any, Union

__all__ = [
    "Audio",
    "ContentBlock",
    "EmbeddedResource",
    "Image",
    "ResourceContent",
    "ResourceLink",
    "blocks_of",
    "is_block",
    "is_content_annotation",
]


@dataclasses.dataclass(frozen=True, slots=True)
class ResourceContent:
    """One content item of a resource read (or embedded in a result): ``text`` or ``blob``."""

    uri: str
    text: str | None = None
    blob: bytes | None = None
    mime_type: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Image:
    """An image: raw bytes and their MIME type (``image/png``)."""

    data: bytes
    mime_type: str


@dataclasses.dataclass(frozen=True, slots=True)
class Audio:
    """Audio: raw bytes and their MIME type (``audio/wav``)."""

    data: bytes
    mime_type: str


@dataclasses.dataclass(frozen=True, slots=True)
class EmbeddedResource:
    """A resource's contents inside a result."""

    resource: ResourceContent


@dataclasses.dataclass(frozen=True, slots=True)
class ResourceLink:
    """A link to a resource the client may read (``resources/read``), not its contents."""

    uri: str
    name: str
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None


ContentBlock = Union[str, Image, Audio, EmbeddedResource, ResourceLink]
_BLOCK_TYPES = (Image, Audio, EmbeddedResource, ResourceLink)


def is_block(value: Any) -> bool:
    """Whether ``value`` is one content block other than text."""
    return isinstance(value, _BLOCK_TYPES)


def blocks_of(value: Any, *, blob_uri: str) -> list[ContentBlock] | None:
    """The content blocks of a handler's return value, or None when it is not content (then it is data: text and
    structured content). ``blob_uri`` names the embedded resource of a ``bytes`` value."""
    if isinstance(value, _BLOCK_TYPES):
        return [value]
    if isinstance(value, (bytes, bytearray)):
        return [EmbeddedResource(ResourceContent(blob_uri, blob=bytes(value), mime_type="application/octet-stream"))]
    if isinstance(value, (list, tuple)) and value and any(isinstance(item, _BLOCK_TYPES) for item in value):
        if all(isinstance(item, (str, *_BLOCK_TYPES)) for item in value):
            return list(value)
    return None


def is_content_annotation(annotation: Any) -> bool:
    """Whether a return annotation is content (no output schema): a block type, ``bytes``, or a list or union of
    those and ``str``."""
    if annotation in _BLOCK_TYPES or annotation in (bytes, bytearray):
        return True
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin in (list, tuple, collections.abc.Sequence, typing.Union, types.UnionType):
        parts = [a for a in arguments if a is not Ellipsis]
        return bool(parts) and any(is_content_annotation(a) for a in parts) and all(
            a is str or is_content_annotation(a) for a in parts)
    return False
