"""RFC 6570 level-3 resource templates: every operator matched and expanded, malformed templates refused with the
template and position named, and resources/read over a real loopback server routed by them (issue 11)."""

from __future__ import annotations

import time

import grpc
import pytest

from mcp_grpc.client import AsyncClient, McpCallError
from mcp_grpc.server import McpApp
from mcp_grpc.server.uri_template import MAX_URI_LENGTH, UriTemplate, UriTemplateError, is_template
from tests.support.servers import running


@pytest.mark.parametrize(
    ("template", "uri", "expected"),
    [
        ("files://{name}", "files://a%20b.txt", {"name": "a b.txt"}),
        ("files://{name}", "files://a/b.txt", None),
        ("files://{+path}", "files://a/b.txt", {"path": "a/b.txt"}),
        ("files://{path*}", "files://a/b.txt", {"path": "a/b.txt"}),
        ("items{?page,size}", "items?page=2&size=10", {"page": "2", "size": "10"}),
        ("items{?page,size}", "items?size=10&page=2", {"page": "2", "size": "10"}),
        ("items{?page,size}", "items?size=10", {"size": "10"}),
        ("items{?page,size}", "items", {}),
        ("items?sort=asc{&page}", "items?sort=asc&page=3", {"page": "3"}),
        ("docs://guide{#section}", "docs://guide#install%20steps", {"section": "install steps"}),
        ("docs://guide{#section}", "docs://guide#a/b", {"section": "a/b"}),
        ("repo://x{/owner}{/name}", "repo://x/ada/engine", {"owner": "ada", "name": "engine"}),
        ("repo://x{/owner}{/name}", "repo://x/ada", None),
        ("tree://root{/path*}", "tree://root/a/b/c", {"path": ["a", "b", "c"]}),
        ("report://q1{.format}", "report://q1.json", {"format": "json"}),
        ("matrix://m{;x,y}", "matrix://m;x=1;y=2", {"x": "1", "y": "2"}),
        ("users://{id}/posts/{post}", "users://7/posts/hello%20world", {"id": "7", "post": "hello world"}),
        ("users://{id}/posts/{post}", "users://7/posts/", None),  # {var} and {+var} need a value
        ("files://{+path}", "files://", None),
        ("matrix://m{;x,y}", "matrix://m;x;y=2", {"x": "", "y": "2"}),  # ;x is x's empty value
    ],
)
def test_each_operator_matches(template, uri, expected):
    assert UriTemplate(template).match(uri) == expected


@pytest.mark.parametrize(
    ("template", "values", "uri"),
    [
        ("files://{name}", {"name": "a/b c"}, "files://a%2Fb%20c"),
        ("files://{+path}", {"path": "a/b c"}, "files://a/b%20c"),
        ("items{?page,size}", {"page": 2, "size": 10}, "items?page=2&size=10"),
        ("items{?page,size}", {"size": 10}, "items?size=10"),
        ("items{?page,size}", {"page": None}, "items"),
        ("items?sort=asc{&page}", {"page": 3}, "items?sort=asc&page=3"),
        ("docs://guide{#section}", {"section": "a/b"}, "docs://guide#a/b"),
        ("repo://x{/owner}{/name}", {"owner": "ada", "name": "my engine"}, "repo://x/ada/my%20engine"),
        ("tree://root{/path*}", {"path": ["a", "b"]}, "tree://root/a/b"),
        ("report://q1{.format}", {"format": "json"}, "report://q1.json"),
        ("matrix://m{;x,y}", {"x": 1, "y": ""}, "matrix://m;x=1;y"),
    ],
)
def test_each_operator_expands_and_round_trips(template, values, uri):
    compiled = UriTemplate(template)
    assert compiled.expand(values) == uri
    matched = compiled.match(uri)
    assert matched is not None
    expected = {k: [str(i) for i in v] if isinstance(v, list) else str(v) for k, v in values.items() if v is not None}
    assert matched == expected


def test_a_query_after_a_literal_question_mark_is_read_in_place():
    # a trailing query is a query string (optional, any order); after a literal '?' each parameter is needed, in place
    template = UriTemplate("items?sort=asc{&page}")
    assert template.match("items?sort=asc&page=3") == {"page": "3"}
    assert template.match("items?sort=asc") is None and template.match("items?page=3&sort=asc") is None
    assert UriTemplate("items{?page}").match("items?x=1&page=3#top") == {"page": "3"}


def test_matching_is_bounded_and_linear():
    names = [f"v{index}" for index in range(200)]
    many = UriTemplate("s:" + ".".join("{" + name + "}" for name in names))
    fits = "s:" + ".".join(["a"] * 200)
    assert many.match(fits) == dict.fromkeys(names, "a")
    assert UriTemplate("s:{+rest}").match("s:" + "a" * (MAX_URI_LENGTH - 2)) is not None
    assert UriTemplate("s:{+rest}").match("s:" + "a" * (MAX_URI_LENGTH - 1)) is None  # longer: refused unread
    # every slot's run covers nearly the whole URI: 200 slots x 64 KiB, scanned without backtracking
    started = time.perf_counter()
    assert many.match("s:" + "a." * (MAX_URI_LENGTH // 2 - 2)) is None
    assert many.match("s:" + "." * (MAX_URI_LENGTH - 3)) is None
    # not a performance figure (those live in bench/): a guard that would trip if a change brought backtracking
    # back, which turns this input into minutes; the scan takes ~0.05 s
    assert time.perf_counter() - started < 2.0


def test_query_variables_are_optional():
    assert UriTemplate("items{?page,size}").optional == {"page", "size"}
    assert UriTemplate("a://{x}{&y}").optional == {"y"}
    assert UriTemplate("a://{x}{/y}").optional == frozenset()


@pytest.mark.parametrize(
    ("template", "message", "position"),
    [
        ("a://{x", "bad URI template 'a://{x': Unclosed expression at position 4", 4),
        ("a://{}", "bad URI template 'a://{}': Empty expression at position 4", 4),
        ("a://{x}}", "bad URI template 'a://{x}}': '}' at position 7 closes no expression", 7),
        ("a://x}", "bad URI template 'a://x}': '}' at position 5 closes no expression", 5),
        ("a://{!x}", "bad URI template 'a://{!x}': Invalid variable name '!x' at position 4", 4),
        ("a://{x:3}", "bad URI template 'a://{x:3}': Prefix modifier {var:N} is not supported", 4),
        ("a://{?x*}", "bad URI template 'a://{?x*}' at position 4: Explode modifier on {?x*} is not supported for matching", 4),
        ("a://{x}/{x}", "bad URI template 'a://{x}/{x}': Variable 'x' appears more than once", None),
        ("a://{x}{y}", "bad URI template 'a://{x}{y}': Variables 'x' and 'y' are adjacent", None),
        ("a://{+x}/{+y}", "bad URI template 'a://{+x}/{+y}'", None),
        ("plain://x", "bad URI template 'plain://x': it has no variables; register it as a plain resource", None),
    ],
)
def test_malformed_templates_name_the_template_and_position(template, message, position):
    with pytest.raises(UriTemplateError) as caught:
        UriTemplate(template)
    assert str(caught.value).startswith(message)
    assert caught.value.template == template and caught.value.position == position


def test_a_uri_with_a_stray_brace_is_a_template_and_refused_at_registration():
    assert is_template("a://x}") and is_template("a://{x")
    app = McpApp("bad")
    with pytest.raises(UriTemplateError, match="'}' at position 5 closes no expression"):
        app.resource("a://x}")(lambda: "x")


def template_app() -> McpApp:
    app = McpApp("templates")

    @app.resource("items://list{?page,size}")
    def items(page: int = 1, size: int = 10) -> str:
        return f"page {page} size {size}"

    @app.resource("docs://guide{#section}")
    def guide(section: str) -> str:
        return f"section {section}"

    @app.resource("repo://x{/owner}{/name}")
    def repo(owner: str, name: str) -> str:
        return f"{owner}'s {name}"

    @app.resource("tree://root{/path*}")
    def tree(path: list[str]) -> str:
        return " > ".join(path)

    @app.resource("report://q1{.format}")
    def report(format: str) -> str:
        return f"as {format}"

    @app.resource("matrix://m{;x,y}")
    def matrix(x: int, y: int) -> str:
        return f"{x}x{y}"

    @app.resource("sorted://list?sort=asc{&page}")
    def sorted_items(page: int = 1) -> str:
        return f"sorted page {page}"

    return app


async def test_resources_read_is_routed_by_every_operator():
    async with running(template_app()) as server:
        async with AsyncClient(server.address, timeout=10) as client:
            listed = {template.uri for template in await client.list_resource_templates()}
            assert "items://list{?page,size}" in listed and "matrix://m{;x,y}" in listed
            reads = {
                "items://list?size=5&page=3": "page 3 size 5",
                "items://list": "page 1 size 10",
                "docs://guide#getting%20started": "section getting started",
                "repo://x/ada/engine": "ada's engine",
                "tree://root/a/b": "a > b",
                "report://q1.csv": "as csv",
                "matrix://m;x=3;y=4": "3x4",
                "sorted://list?sort=asc&page=2": "sorted page 2",
            }
            for uri, text in reads.items():
                (content,) = await client.read_resource(uri)
                assert (content.uri, content.text) == (uri, text)
            with pytest.raises(McpCallError) as bad_value:
                await client.read_resource("matrix://m;x=3;y=four")
            with pytest.raises(McpCallError) as no_match:
                await client.read_resource("repo://x/ada")
    assert bad_value.value.status == grpc.StatusCode.INVALID_ARGUMENT and "y" in bad_value.value.message
    assert no_match.value.status == grpc.StatusCode.NOT_FOUND
