"""The client commands: ``tools``, ``describe``, ``call``, ``resources``, ``read``, ``prompts``, ``prompt``,
``complete``. Thin: parse, call the client, print. ``--json`` prints MCP's JSON (``inputSchema``, ``mimeType``, ...).

    mcp-grpc tools 127.0.0.1:50051
    mcp-grpc describe 127.0.0.1:50051 greet
    mcp-grpc call 127.0.0.1:50051 greet -d '{"name": "Ada"}'
    mcp-grpc call 127.0.0.1:50051 ask_name --answer 'user_name={"name": "Ada"}'
    mcp-grpc read 127.0.0.1:50051 notes://welcome.md
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from typing import Any

from mcp_grpc.cli import exit_codes
from mcp_grpc.cli.input_answers import Answerer, parse_answers
from mcp_grpc.cli.client_options import (
    UsageError,
    add_connection_flags,
    open_client,
    read_json_object,
    run_client_command,
)

__all__ = ["register", "tool_json"]


# -- MCP's JSON for what the client returns -------------------------------------------------------------------------

_ANNOTATION_NAMES = {
    "title": "title",
    "read_only": "readOnlyHint",
    "destructive": "destructiveHint",
    "idempotent": "idempotentHint",
    "open_world": "openWorldHint",
}


def _without_empty(item: dict[str, Any]) -> dict[str, Any]:
    """MCP's optional strings are absent, not empty (Protobuf cannot tell the two apart)."""
    return {key: value for key, value in item.items() if value not in ("", None)}


def tool_json(tool: Any) -> dict[str, Any]:
    """A ``ToolInfo`` as MCP's ``Tool`` object."""
    item = _without_empty(
        {"name": tool.name, "title": tool.title, "description": tool.description, "inputSchema": tool.input_schema}
    )
    if tool.output_schema is not None:
        item["outputSchema"] = tool.output_schema
    if tool.annotations:
        item["annotations"] = _without_empty(
            {_ANNOTATION_NAMES[key]: value for key, value in tool.annotations.items() if key in _ANNOTATION_NAMES}
        )
    return item


def _resource_json(resource: Any, *, template: bool = False) -> dict[str, Any]:
    return _without_empty(
        {
            "uriTemplate" if template else "uri": resource.uri,
            "name": resource.name,
            "title": resource.title,
            "description": resource.description,
            "mimeType": resource.mime_type,
        }
    )


def _prompt_json(prompt: Any) -> dict[str, Any]:
    item = _without_empty({"name": prompt.name, "title": prompt.title, "description": prompt.description})
    item["arguments"] = [_without_empty(dict(argument)) | {"required": argument["required"]} for argument in prompt.arguments]
    return item


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


# -- tools ----------------------------------------------------------------------------------------------------------


async def _tools(args: argparse.Namespace) -> int:
    async with open_client(args) as client:
        tools = await client.list_tools()
    if args.json:
        _print_json({"tools": [tool_json(tool) for tool in tools]})
        return exit_codes.OK
    if not tools:
        print("(no tools)")
    for tool in tools:
        required = list(tool.input_schema.get("required", ()))
        properties = tool.input_schema.get("properties", {})
        # Struct keeps no key order: required arguments first (in their listed order), then the rest by name.
        order = [name for name in required if name in properties] + sorted(set(properties) - set(required))
        arguments = ", ".join(
            f"{name}{'' if name in required else '?'}: {_type_name(properties[name])}" for name in order
        )
        print(f"{tool.name}({arguments})" + (f"  - {tool.description}" if tool.description else ""))
    return exit_codes.OK


def _type_name(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        return "|".join(kind)
    if kind:
        return str(kind)
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return "|".join(_type_name(option) for option in schema["anyOf"])
    return "any"


async def _describe(args: argparse.Namespace) -> int:
    async with open_client(args) as client:
        tools = await client.list_tools()
    for tool in tools:
        if tool.name == args.tool:
            _print_json(tool_json(tool))
            return exit_codes.OK
    # ListTools shows only what the caller may call, so "absent" and "not yours" look the same, as on CallTool.
    print(f"mcp-grpc describe: {args.address} lists no tool {args.tool!r} for this caller", file=sys.stderr)
    import grpc

    return exit_codes.for_status(grpc.StatusCode.NOT_FOUND)


async def _call(args: argparse.Namespace) -> int:
    arguments = read_json_object(args.data, "-d")

    def show_progress(update: Any) -> None:
        total = f"/{update.total:g}" if update.total is not None else ""
        print(f"progress {update.progress:g}{total} {update.message}".rstrip(), file=sys.stderr)

    answerer = Answerer(parse_answers(args.answers, args.answer_file))
    async with open_client(args) as client:
        result = await client.call_tool(
            args.tool, arguments, progress=show_progress if args.progress else None, on_input=answerer
        )
    for key in sorted(set(answerer.given) - answerer.used):
        print(f"mcp-grpc call: note: the tool never asked for {key!r} (its --answer was not used)", file=sys.stderr)
    if args.json:
        from google.protobuf import json_format

        _print_json(json_format.MessageToDict(result.raw))
        return exit_codes.TOOL_ERROR if result.is_error else exit_codes.OK
    if result.is_error:
        print(f"mcp-grpc call: tool {args.tool!r} failed: {result.text}", file=sys.stderr)
        return exit_codes.TOOL_ERROR
    if result.structured is not None:
        _print_json(result.structured)
    else:
        print(result.text)
    return exit_codes.OK


# -- resources --------------------------------------------------------------------------------------------------------


async def _resources(args: argparse.Namespace) -> int:
    async with open_client(args) as client:
        resources = await client.list_resources()
        templates = await client.list_resource_templates()
    if args.json:
        _print_json(
            {
                "resources": [_resource_json(item) for item in resources],
                "resourceTemplates": [_resource_json(item, template=True) for item in templates],
            }
        )
        return exit_codes.OK
    if not resources and not templates:
        print("(no resources)")
    for item in resources + templates:
        kind = f" ({item.mime_type})" if item.mime_type else ""
        print(f"{item.uri}{kind}" + (f"  - {item.description}" if item.description else ""))
    return exit_codes.OK


async def _read(args: argparse.Namespace) -> int:
    async with open_client(args) as client:
        contents = await client.read_resource(args.uri)
    if args.json:
        items = []
        for item in contents:
            body = {"text": item.text} if item.blob is None else {"blob": base64.b64encode(item.blob).decode()}
            items.append(_without_empty({"uri": item.uri, "mimeType": item.mime_type}) | body)
        _print_json({"contents": items})
        return exit_codes.OK
    for item in contents:
        if item.blob is not None:
            sys.stdout.flush()
            sys.stdout.buffer.write(item.blob)
            sys.stdout.buffer.flush()
        else:
            print(item.text or "")
    return exit_codes.OK


# -- prompts and completions ----------------------------------------------------------------------------------------


async def _prompts(args: argparse.Namespace) -> int:
    async with open_client(args) as client:
        prompts = await client.list_prompts()
    if args.json:
        _print_json({"prompts": [_prompt_json(prompt) for prompt in prompts]})
        return exit_codes.OK
    if not prompts:
        print("(no prompts)")
    for prompt in prompts:
        arguments = ", ".join(a["name"] + ("" if a["required"] else "?") for a in prompt.arguments)
        print(f"{prompt.name}({arguments})" + (f"  - {prompt.description}" if prompt.description else ""))
    return exit_codes.OK


def _string_map(value: str, flag: str) -> dict[str, str]:
    """Prompt and completion arguments are strings in MCP: refuse anything else rather than guess a rendering."""
    data = read_json_object(value, flag)
    for key, item in data.items():
        if not isinstance(item, str):
            raise UsageError(f"{flag}: MCP prompt arguments are strings; {key!r} is {json.dumps(item)}")
    return data


async def _prompt(args: argparse.Namespace) -> int:
    arguments = _string_map(args.data, "-d")
    async with open_client(args) as client:
        result = await client.get_prompt(args.prompt, arguments)
    if args.json:
        messages = [{"role": role, "content": {"type": "text", "text": text}} for role, text in result.messages]
        _print_json(_without_empty({"description": result.description}) | {"messages": messages})
        return exit_codes.OK
    for role, text in result.messages:
        print(f"[{role}] {text}")
    return exit_codes.OK


async def _complete(args: argparse.Namespace) -> int:
    context = _string_map(args.context, "--context")
    async with open_client(args) as client:
        result = await client.complete(
            args.argument, args.value, prompt=args.prompt, resource=args.resource, context_arguments=context
        )
    if args.json:
        _print_json({"completion": {"values": result.values, "total": result.total, "hasMore": result.has_more}})
        return exit_codes.OK
    for value in result.values:
        print(value)
    return exit_codes.OK


# -- registration -----------------------------------------------------------------------------------------------------


def _command(
    subparsers: argparse._SubParsersAction, name: str, help_text: str, *, timeout: float = 10.0
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_text, description=help_text[:1].upper() + help_text[1:] + ".")
    add_connection_flags(parser, timeout=timeout)
    return parser


def register(subparsers: argparse._SubParsersAction) -> None:
    tools = _command(subparsers, "tools", "list the tools of a server")
    tools.add_argument("--json", action="store_true", help="print MCP's tools/list result (with inputSchema)")
    tools.set_defaults(handler=run_client_command(_tools))

    describe = _command(subparsers, "describe", "print one tool as MCP's JSON: its inputSchema, outputSchema, annotations")
    describe.add_argument("tool", metavar="TOOL")
    describe.set_defaults(handler=run_client_command(_describe))

    call = _command(subparsers, "call", "call a tool and print its result", timeout=30.0)
    call.add_argument("tool", metavar="TOOL")
    call.add_argument(
        "-d",
        "--data",
        "--args",
        dest="data",
        default="{}",
        metavar="JSON",
        help="the arguments: a JSON object, @FILE or @- for standard input (default {}; --args is the old name)",
    )
    call.add_argument("--progress", action="store_true", help="stream progress to stderr (CallToolStream)")
    call.add_argument("--json", action="store_true", help="print MCP's CallToolResult (content, structuredContent, isError)")
    call.add_argument(
        "--answer",
        action="append",
        default=[],
        dest="answers",
        metavar="KEY=JSON",
        help="answer the tool's input request KEY (repeatable): the protocol's result object, e.g. "
        "'user_name={\"action\": \"accept\", \"content\": {\"name\": \"Alice\"}}'; for an elicitation a bare object "
        "of the form's fields means accept. Without one, an elicitation is asked on the terminal (stdin a TTY), "
        "otherwise the command stops naming the key; sampling and roots are answered only by --answer/--answer-file",
    )
    call.add_argument("--answer-file", metavar="FILE", help="a JSON object of KEY -> result, as --answer")
    call.set_defaults(handler=run_client_command(_call))

    resources = _command(subparsers, "resources", "list the resources and resource templates of a server")
    resources.add_argument("--json", action="store_true", help="print MCP's JSON (uri, uriTemplate, mimeType, ...)")
    resources.set_defaults(handler=run_client_command(_resources))

    read = _command(subparsers, "read", "read a resource and print its contents", timeout=30.0)
    read.add_argument("uri", metavar="URI")
    read.add_argument("--json", action="store_true", help="print MCP's resources/read result (blobs in base64)")
    read.set_defaults(handler=run_client_command(_read))

    prompts = _command(subparsers, "prompts", "list the prompts of a server")
    prompts.add_argument("--json", action="store_true", help="print MCP's prompts/list result")
    prompts.set_defaults(handler=run_client_command(_prompts))

    prompt = _command(subparsers, "prompt", "get a prompt: print its messages", timeout=30.0)
    prompt.add_argument("prompt", metavar="PROMPT")
    prompt.add_argument(
        "-d", "--data", dest="data", default="{}", metavar="JSON",
        help="the prompt's arguments: a JSON object of strings, @FILE or @- (default {})",
    )
    prompt.add_argument("--json", action="store_true", help="print MCP's prompts/get result")
    prompt.set_defaults(handler=run_client_command(_prompt))

    complete = _command(subparsers, "complete", "complete an argument of a prompt or a resource template")
    reference = complete.add_mutually_exclusive_group(required=True)
    reference.add_argument("--prompt", metavar="NAME", help="the prompt whose argument is completed")
    reference.add_argument("--resource", metavar="URI_TEMPLATE", help="the resource template, e.g. 'notes://{name}'")
    complete.add_argument("argument", metavar="ARGUMENT", help="the argument's name")
    complete.add_argument("value", metavar="VALUE", help="what was typed so far")
    complete.add_argument(
        "--context", default="{}", metavar="JSON", help="arguments already given, as a JSON object of strings"
    )
    complete.add_argument("--json", action="store_true", help="print MCP's completion/complete result")
    complete.set_defaults(handler=run_client_command(_complete))
