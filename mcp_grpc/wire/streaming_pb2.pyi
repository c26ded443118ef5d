from google.protobuf import struct_pb2 as _struct_pb2
from mcp_grpc.wire import mcp_messages_pb2 as _mcp_messages_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LoggingLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOGGING_LEVEL_UNSPECIFIED: _ClassVar[LoggingLevel]
    LOGGING_LEVEL_DEBUG: _ClassVar[LoggingLevel]
    LOGGING_LEVEL_INFO: _ClassVar[LoggingLevel]
    LOGGING_LEVEL_NOTICE: _ClassVar[LoggingLevel]
    LOGGING_LEVEL_WARNING: _ClassVar[LoggingLevel]
    LOGGING_LEVEL_ERROR: _ClassVar[LoggingLevel]
    LOGGING_LEVEL_CRITICAL: _ClassVar[LoggingLevel]
    LOGGING_LEVEL_ALERT: _ClassVar[LoggingLevel]
    LOGGING_LEVEL_EMERGENCY: _ClassVar[LoggingLevel]
LOGGING_LEVEL_UNSPECIFIED: LoggingLevel
LOGGING_LEVEL_DEBUG: LoggingLevel
LOGGING_LEVEL_INFO: LoggingLevel
LOGGING_LEVEL_NOTICE: LoggingLevel
LOGGING_LEVEL_WARNING: LoggingLevel
LOGGING_LEVEL_ERROR: LoggingLevel
LOGGING_LEVEL_CRITICAL: LoggingLevel
LOGGING_LEVEL_ALERT: LoggingLevel
LOGGING_LEVEL_EMERGENCY: LoggingLevel

class CallToolStreamRequest(_message.Message):
    __slots__ = ("common", "request")
    COMMON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    common: _mcp_messages_pb2.RequestFields
    request: _mcp_messages_pb2.CallToolRequest.Request
    def __init__(self, common: _Optional[_Union[_mcp_messages_pb2.RequestFields, _Mapping]] = ..., request: _Optional[_Union[_mcp_messages_pb2.CallToolRequest.Request, _Mapping]] = ...) -> None: ...

class CallToolStreamResponse(_message.Message):
    __slots__ = ("progress", "result", "log")
    class Progress(_message.Message):
        __slots__ = ("progress", "total", "message")
        PROGRESS_FIELD_NUMBER: _ClassVar[int]
        TOTAL_FIELD_NUMBER: _ClassVar[int]
        MESSAGE_FIELD_NUMBER: _ClassVar[int]
        progress: float
        total: float
        message: str
        def __init__(self, progress: _Optional[float] = ..., total: _Optional[float] = ..., message: _Optional[str] = ...) -> None: ...
    class Log(_message.Message):
        __slots__ = ("level", "logger", "data")
        LEVEL_FIELD_NUMBER: _ClassVar[int]
        LOGGER_FIELD_NUMBER: _ClassVar[int]
        DATA_FIELD_NUMBER: _ClassVar[int]
        level: LoggingLevel
        logger: str
        data: _struct_pb2.Value
        def __init__(self, level: _Optional[_Union[LoggingLevel, str]] = ..., logger: _Optional[str] = ..., data: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    progress: CallToolStreamResponse.Progress
    result: _mcp_messages_pb2.CallToolResponse
    log: CallToolStreamResponse.Log
    def __init__(self, progress: _Optional[_Union[CallToolStreamResponse.Progress, _Mapping]] = ..., result: _Optional[_Union[_mcp_messages_pb2.CallToolResponse, _Mapping]] = ..., log: _Optional[_Union[CallToolStreamResponse.Log, _Mapping]] = ...) -> None: ...

class NotificationFilter(_message.Message):
    __slots__ = ("tools_list_changed", "prompts_list_changed", "resources_list_changed", "resource_subscriptions")
    TOOLS_LIST_CHANGED_FIELD_NUMBER: _ClassVar[int]
    PROMPTS_LIST_CHANGED_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_LIST_CHANGED_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    tools_list_changed: bool
    prompts_list_changed: bool
    resources_list_changed: bool
    resource_subscriptions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tools_list_changed: _Optional[bool] = ..., prompts_list_changed: _Optional[bool] = ..., resources_list_changed: _Optional[bool] = ..., resource_subscriptions: _Optional[_Iterable[str]] = ...) -> None: ...

class ListenRequest(_message.Message):
    __slots__ = ("common", "notifications")
    COMMON_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    common: _mcp_messages_pb2.RequestFields
    notifications: NotificationFilter
    def __init__(self, common: _Optional[_Union[_mcp_messages_pb2.RequestFields, _Mapping]] = ..., notifications: _Optional[_Union[NotificationFilter, _Mapping]] = ...) -> None: ...

class ListenResponse(_message.Message):
    __slots__ = ("acknowledged", "tools_list_changed", "prompts_list_changed", "resources_list_changed", "resource_updated")
    class Acknowledged(_message.Message):
        __slots__ = ("notifications",)
        NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
        notifications: NotificationFilter
        def __init__(self, notifications: _Optional[_Union[NotificationFilter, _Mapping]] = ...) -> None: ...
    class ToolsListChanged(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class PromptsListChanged(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class ResourcesListChanged(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class ResourceUpdated(_message.Message):
        __slots__ = ("uri",)
        URI_FIELD_NUMBER: _ClassVar[int]
        uri: str
        def __init__(self, uri: _Optional[str] = ...) -> None: ...
    ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    TOOLS_LIST_CHANGED_FIELD_NUMBER: _ClassVar[int]
    PROMPTS_LIST_CHANGED_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_LIST_CHANGED_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_UPDATED_FIELD_NUMBER: _ClassVar[int]
    acknowledged: ListenResponse.Acknowledged
    tools_list_changed: ListenResponse.ToolsListChanged
    prompts_list_changed: ListenResponse.PromptsListChanged
    resources_list_changed: ListenResponse.ResourcesListChanged
    resource_updated: ListenResponse.ResourceUpdated
    def __init__(self, acknowledged: _Optional[_Union[ListenResponse.Acknowledged, _Mapping]] = ..., tools_list_changed: _Optional[_Union[ListenResponse.ToolsListChanged, _Mapping]] = ..., prompts_list_changed: _Optional[_Union[ListenResponse.PromptsListChanged, _Mapping]] = ..., resources_list_changed: _Optional[_Union[ListenResponse.ResourcesListChanged, _Mapping]] = ..., resource_updated: _Optional[_Union[ListenResponse.ResourceUpdated, _Mapping]] = ...) -> None: ...
