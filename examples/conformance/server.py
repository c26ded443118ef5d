"""The tools, resources and prompts the official MCP conformance suite calls, written with mcp-grpc's decorators.

    mcp-grpc serve examples/conformance/server.py:app --insecure-local --port 50051
    mcp-grpc bridge 127.0.0.1:50051 --insecure-local --http 3000
    conformance server --url http://127.0.0.1:3000/mcp          (or: make conformance)

The names, texts and payloads are the ones the suite's scenarios (``src/scenarios/server/*.ts`` of
modelcontextprotocol/conformance) check. The ``test_input_required_result_*`` tools and prompt ask the client for
input with ``ctx.elicit`` / ``ctx.sample`` / ``ctx.list_roots`` / ``ctx.ask`` (multi round-trip requests): the call
returns an input-required result, and the client's retry carries the answers.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from typing import Annotated, Any

from pydantic import BaseModel, Field

from mcp_grpc.server import (
    Audio,
    Context,
    EmbeddedResource,
    Image,
    McpApp,
    PromptMessage,
    ResourceContent,
    ToolError,
)

__all__ = ["JSON_SCHEMA_2020_12", "app"]

app = McpApp("mcp-conformance-test-server", version="1.0.0")

#: A 1x1 red PNG pixel and a minimal WAV file: the payloads the suite compares byte for byte (base64 on JSON-RPC).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
WAV = base64.b64decode("UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=")

#: The input schema json-schema-2020-12 expects verbatim in tools/list: a dialect, $defs with an $anchor, a $ref,
#: composition (allOf/anyOf), a conditional (if/then/else) and additionalProperties.
JSON_SCHEMA_2020_12: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


def _schema(**properties: dict[str, Any]) -> dict[str, Any]:
    """An elicitation schema: an object whose every property is required."""
    return {"type": "object", "properties": properties, "required": list(properties)}


# -- tools: content ---------------------------------------------------------------------------------------------


@app.tool
def test_simple_text() -> str:
    """Tests simple text content response"""
    return "This is a simple text response for testing."


@app.tool
def test_image_content() -> Image:
    """Tests image content response"""
    return Image(PNG, "image/png")


@app.tool
def test_audio_content() -> Audio:
    """Tests audio content response"""
    return Audio(WAV, "audio/wav")


@app.tool
def test_embedded_resource() -> EmbeddedResource:
    """Tests embedded resource content response"""
    return EmbeddedResource(
        ResourceContent("test://embedded-resource", text="This is an embedded resource content.", mime_type="text/plain")
    )


@app.tool
def test_multiple_content_types() -> list[str | Image | EmbeddedResource]:
    """Tests response with multiple content types (text, image, resource)"""
    data = json.dumps({"test": "data", "value": 123}, separators=(",", ":"))
    return [
        "Multiple content types test:",
        Image(PNG, "image/png"),
        EmbeddedResource(ResourceContent("test://mixed-content-resource", text=data, mime_type="application/json")),
    ]


@app.tool
def test_error_handling() -> str:
    """Tests error response handling"""
    raise ToolError("This tool intentionally returns an error for testing")


@app.tool
async def test_tool_with_progress(ctx: Context) -> str:
    """Tests tool that reports progress notifications"""
    for step in (0, 50, 100):
        await ctx.report_progress(step, 100, f"Completed step {step} of 100")
        if step < 100:
            await asyncio.sleep(0.05)
    return "progress reported: 0, 50, 100 of 100"


@app.tool
async def test_tool_with_logging(ctx: Context) -> str:
    """Tests tool that emits log messages during execution"""
    await ctx.log("info", "Tool execution started")
    await asyncio.sleep(0.05)
    await ctx.log("info", "Tool processing data")
    await asyncio.sleep(0.05)
    await ctx.log("info", "Tool execution completed")
    return "Tool with logging executed successfully"


class Address(BaseModel):
    street: str | None = None
    city: str | None = None


@app.tool
def json_schema_2020_12_tool(
    name: str | None = None,
    address: Address | None = None,
    contactMethod: str | None = None,  # noqa: N803 - the suite's property name
    phone: str | None = None,
    email: str | None = None,
) -> str:
    """Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)"""
    given = {"name": name, "address": address.model_dump(exclude_none=True) if address else None,
             "contactMethod": contactMethod, "phone": phone, "email": email}
    return f"JSON Schema 2020-12 tool called with: {json.dumps({k: v for k, v in given.items() if v is not None})}"


# The arguments are still validated by the signature above; the published schema is the suite's, word for word
# (pydantic would write its own $defs and drop the dialect, the anchor and the conditionals).
_tool = app.tools["json_schema_2020_12_tool"]
_tool.signature = dataclasses.replace(_tool.signature, input_schema=JSON_SCHEMA_2020_12)


@app.tool
def test_custom_header(
    region: Annotated[str, Field(description="Sent again as the Mcp-Param-Region header",
                                 json_schema_extra={"x-mcp-header": "Region"})],
) -> str:
    """Echoes a parameter that HTTP clients also send as a header (SEP-2243: the bridge checks the two agree)"""
    return f"region: {region}"


# -- tools: diagnostics of the stateless (2026-07-28) scenario -------------------------------------------------


@app.tool
async def test_missing_capability(ctx: Context) -> str:
    """Test tool requiring sampling (a client that did not declare sampling gets -32021)"""
    await ctx.sample("Say OK", max_tokens=5, key="probe")
    return "Success"


@app.tool
async def test_streaming_elicitation(ctx: Context) -> str:
    """Diagnostic tool validating response progress streams: progress only, never a request on the response stream"""
    await ctx.report_progress(50, 100, "half way")
    return "Streaming complete"


@app.tool
async def test_logging_tool(ctx: Context) -> str:
    """Diagnostic logging validator tool (it logs; the bridge forwards nothing to a request without a log level)"""
    await ctx.log("info", "Logging evaluated")
    return "Logging evaluated"


def _dynamic_tool() -> str:
    """A tool that test_trigger_tool_change adds and removes"""
    return "dynamic"


def _dynamic_prompt() -> str:
    """A prompt that test_trigger_prompt_change adds and removes"""
    return "dynamic"


@app.tool
def test_trigger_tool_change() -> str:
    """Adds or removes test_dynamic_tool, so listeners get notifications/tools/list_changed"""
    if "test_dynamic_tool" in app.tools:
        app.remove_tool("test_dynamic_tool")
    else:
        app.tool("test_dynamic_tool")(_dynamic_tool)
    return "Mutation triggered"


@app.tool
def test_trigger_prompt_change() -> str:
    """Adds or removes test_dynamic_prompt, so listeners get notifications/prompts/list_changed"""
    if "test_dynamic_prompt" in app.prompts:
        app.remove_prompt("test_dynamic_prompt")
    else:
        app.prompt("test_dynamic_prompt")(_dynamic_prompt)
    return "Mutation triggered"


# -- tools: input from the client (sampling, elicitation) --------------------------------------------------------


@app.tool
async def test_sampling(prompt: Annotated[str, Field(description="The prompt to send to the LLM")], ctx: Context) -> str:
    """Tests server-initiated sampling (LLM completion request)"""
    reply = await ctx.sample(prompt, max_tokens=100, key="sampling")
    return f"LLM response: {reply.text}"


@app.tool
async def test_elicitation(
    message: Annotated[str, Field(description="The message to show the user")], ctx: Context
) -> str:
    """Tests server-initiated elicitation (user input request)"""
    answer = await ctx.elicit(
        message, _schema(response={"type": "string", "description": "User's response"}), key="elicitation"
    )
    return f"User response: action={answer.action}, content={json.dumps(answer.content or {})}"


SEP1034_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "User name", "default": "John Doe"},
        "age": {"type": "integer", "description": "User age", "default": 30},
        "score": {"type": "number", "description": "User score", "default": 95.5},
        "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"],
                   "default": "active"},
        "verified": {"type": "boolean", "description": "Verification status", "default": True},
    },
    "required": [],
}

SEP1330_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "untitledSingle": {"type": "string", "description": "Select one option",
                           "enum": ["option1", "option2", "option3"]},
        "titledSingle": {"type": "string", "description": "Select one option with titles", "oneOf": [
            {"const": "value1", "title": "First Option"},
            {"const": "value2", "title": "Second Option"},
            {"const": "value3", "title": "Third Option"},
        ]},
        "legacyEnum": {"type": "string", "description": "Select one option (legacy)", "enum": ["opt1", "opt2", "opt3"],
                       "enumNames": ["Option One", "Option Two", "Option Three"]},
        "untitledMulti": {"type": "array", "description": "Select multiple options", "minItems": 1, "maxItems": 3,
                          "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
        "titledMulti": {"type": "array", "description": "Select multiple options with titles", "minItems": 1,
                        "maxItems": 3, "items": {"anyOf": [
                            {"const": "value1", "title": "First Choice"},
                            {"const": "value2", "title": "Second Choice"},
                            {"const": "value3", "title": "Third Choice"},
                        ]}},
    },
    "required": [],
}


@app.tool
async def test_elicitation_sep1034_defaults(ctx: Context) -> str:
    """Tests elicitation with default values per SEP-1034"""
    answer = await ctx.elicit("Please review and update the form fields with defaults", SEP1034_SCHEMA, key="form")
    return f"Elicitation completed: action={answer.action}, content={json.dumps(answer.content or {})}"


@app.tool
async def test_elicitation_sep1330_enums(ctx: Context) -> str:
    """Tests elicitation with enum schema improvements per SEP-1330"""
    answer = await ctx.elicit("Please select options from the enum fields", SEP1330_SCHEMA, key="enums")
    return f"Elicitation completed: action={answer.action}, content={json.dumps(answer.content or {})}"


# -- tools: multi round-trip requests (input_required results) --------------------------------------------------


@app.tool
async def test_input_required_result_elicitation(ctx: Context) -> str:
    """MRTR: returns InputRequiredResult with elicitation request"""
    answer = await ctx.elicit("What is your name?", _schema(name={"type": "string"}), key="user_name")
    return f"Hello, {(answer.content or {}).get('name', 'unknown')}!"


@app.tool
async def test_input_required_result_sampling(ctx: Context) -> str:
    """MRTR: returns InputRequiredResult with sampling request"""
    reply = await ctx.sample("What is the capital of France?", max_tokens=100, key="sample_request")
    return f"Sampling result: {reply.text or 'no response'}"


@app.tool
async def test_input_required_result_list_roots(ctx: Context) -> str:
    """MRTR: returns InputRequiredResult with roots/list request"""
    roots = await ctx.list_roots(key="roots_request")
    return f"Found {len(roots)} root(s)"


@app.tool
async def test_input_required_result_request_state(ctx: Context) -> str:
    """MRTR: returns InputRequiredResult with requestState"""
    answer = await ctx.elicit("Please confirm", _schema(ok={"type": "boolean"}), key="confirm")
    if (answer.content or {}).get("ok") is not True:
        raise ToolError("not confirmed")
    return "state-ok: requestState validated"


@app.tool
async def test_input_required_result_multiple_inputs(ctx: Context) -> str:
    """MRTR: returns InputRequiredResult with multiple input requests"""
    from mcp_grpc.server import Elicit, ListRoots, Sample

    answers = await ctx.ask({
        "user_name": Elicit("What is your name?", _schema(name={"type": "string"})),
        "greeting": Sample("Generate a greeting", max_tokens=50),
        "client_roots": ListRoots(),
    })
    name = (answers["user_name"].content or {}).get("name", "unknown")
    return f"Hello {name}: {answers['greeting'].text} ({len(answers['client_roots'])} root(s))"


@app.tool
async def test_input_required_result_multi_round(ctx: Context) -> str:
    """MRTR: multi-round InputRequiredResult workflow"""
    first = await ctx.elicit("Step 1: What is your name?", _schema(name={"type": "string"}), key="step1")
    name = (first.content or {}).get("name", "friend")
    second = await ctx.elicit("Step 2: What is your favorite color?", _schema(color={"type": "string"}), key="step2")
    return f"Multi-round complete for {name} who likes {(second.content or {}).get('color', 'unknown')}"


@app.tool
async def test_input_required_result_tampered_state(ctx: Context) -> str:
    """MRTR: HMAC-signed requestState integrity test (the framework seals request_state and refuses a tampered one)"""
    await ctx.elicit("Please confirm", _schema(ok={"type": "boolean"}), key="confirm")
    return "integrity-ok: state verified"


@app.tool
async def test_input_required_result_capabilities(ctx: Context) -> str:
    """MRTR: respects client capabilities in inputRequests"""
    from mcp_grpc.server import Elicit, Sample

    capabilities = ctx.client_capabilities
    wanted: dict[str, Any] = {}
    if "elicitation" in capabilities:
        wanted["elicit_input"] = Elicit("Elicitation input", _schema(value={"type": "string"}))
    if "sampling" in capabilities:
        wanted["sample_input"] = Sample("Sample request", max_tokens=50)
    if not wanted:
        return "No supported capabilities declared"
    answers = await ctx.ask(wanted)
    return f"capabilities-ok: received {','.join(sorted(answers))}"


# -- resources ---------------------------------------------------------------------------------------------------


@app.resource("test://static-text", name="static-text", title="Static Text Resource", mime_type="text/plain")
def static_text() -> str:
    """A static text resource for testing"""
    return "This is the content of the static text resource."


@app.resource("test://static-binary", name="static-binary", title="Static Binary Resource", mime_type="image/png")
def static_binary() -> bytes:
    """A static binary resource (image) for testing"""
    return PNG


@app.resource("test://watched-resource", name="watched-resource", title="Watched Resource", mime_type="text/plain")
def watched_resource() -> str:
    """A resource that auto-updates every 3 seconds"""
    return "Watched resource content"


@app.resource("test://template/{id}/data", name="template", title="Resource Template", mime_type="application/json")
def template(id: str) -> ResourceContent:  # noqa: A002 - the template's variable
    """A resource template with parameter substitution"""
    data = json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"})
    return ResourceContent(f"test://template/{id}/data", text=data, mime_type="application/json")


# -- prompts -----------------------------------------------------------------------------------------------------


@app.prompt(title="Simple Test Prompt")
def test_simple_prompt() -> str:
    """A simple prompt without arguments"""
    return "This is a simple prompt for testing."


@app.prompt(title="Prompt With Arguments")
def test_prompt_with_arguments(
    arg1: Annotated[str, Field(description="First test argument")],
    arg2: Annotated[str, Field(description="Second test argument")],
) -> str:
    """A prompt with required arguments"""
    return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"


@app.completion(prompt="test_prompt_with_arguments", argument="arg1")
def complete_arg1(value: str, arguments: dict[str, str]) -> list[str]:
    """Values for arg1 starting with what was typed."""
    return [choice for choice in ("test", "testing", "tested") if choice.startswith(value)]


@app.prompt(title="Prompt With Embedded Resource")
def test_prompt_with_embedded_resource(
    resourceUri: Annotated[str, Field(description="URI of the resource to embed")],  # noqa: N803
) -> list[PromptMessage]:
    """A prompt that includes an embedded resource"""
    embedded = EmbeddedResource(
        ResourceContent(resourceUri, text="Embedded resource content for testing.", mime_type="text/plain")
    )
    return [PromptMessage("user", embedded), PromptMessage("user", "Please process the embedded resource above.")]


@app.prompt(title="Prompt With Image")
def test_prompt_with_image() -> list[PromptMessage]:
    """A prompt that includes image content"""
    return [PromptMessage("user", Image(PNG, "image/png")), PromptMessage("user", "Please analyze the image above.")]


@app.prompt
async def test_input_required_result_prompt(ctx: Context) -> str:
    """MRTR: prompt that requires elicitation input"""
    answer = await ctx.elicit("What context should the prompt use?", _schema(context={"type": "string"}),
                              key="user_context")
    return f"Prompt with context: {(answer.content or {}).get('context', 'unknown')}"


if __name__ == "__main__":
    app.serve(insecure_local=True)
