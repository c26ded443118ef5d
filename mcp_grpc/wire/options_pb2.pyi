from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
TOOL_FIELD_NUMBER: _ClassVar[int]
tool: _descriptor.FieldDescriptor
RESOURCE_FIELD_NUMBER: _ClassVar[int]
resource: _descriptor.FieldDescriptor

class AuthorizationCheck(_message.Message):
    __slots__ = ("relation", "object_template")
    RELATION_FIELD_NUMBER: _ClassVar[int]
    OBJECT_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    relation: str
    object_template: str
    def __init__(self, relation: _Optional[str] = ..., object_template: _Optional[str] = ...) -> None: ...

class ToolOptions(_message.Message):
    __slots__ = ("name", "title", "description", "read_only", "destructive", "idempotent", "open_world", "authorize")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    DESTRUCTIVE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENT_FIELD_NUMBER: _ClassVar[int]
    OPEN_WORLD_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZE_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    description: str
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool
    authorize: _containers.RepeatedCompositeFieldContainer[AuthorizationCheck]
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., read_only: _Optional[bool] = ..., destructive: _Optional[bool] = ..., idempotent: _Optional[bool] = ..., open_world: _Optional[bool] = ..., authorize: _Optional[_Iterable[_Union[AuthorizationCheck, _Mapping]]] = ...) -> None: ...

class ResourceOptions(_message.Message):
    __slots__ = ("uri", "uri_template", "name", "title", "description", "mime_type", "authorize")
    URI_FIELD_NUMBER: _ClassVar[int]
    URI_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZE_FIELD_NUMBER: _ClassVar[int]
    uri: str
    uri_template: str
    name: str
    title: str
    description: str
    mime_type: str
    authorize: _containers.RepeatedCompositeFieldContainer[AuthorizationCheck]
    def __init__(self, uri: _Optional[str] = ..., uri_template: _Optional[str] = ..., name: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., mime_type: _Optional[str] = ..., authorize: _Optional[_Iterable[_Union[AuthorizationCheck, _Mapping]]] = ...) -> None: ...
