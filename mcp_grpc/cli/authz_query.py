"""``mcp-grpc authz check | list-objects | list-users | explain``: one query against a model file and tuple files."""

from __future__ import annotations

import argparse
import json
from typing import Any, Mapping

from mcp_grpc.authz.backend import CheckRequest, Outcome, TupleKey
from mcp_grpc.cli.authz_shared import EXIT_ERROR, EXIT_FAILED, EXIT_OK, CommandError, request_context

__all__ = ["run_check", "run_explain", "run_list_objects", "run_list_users"]


def _load_store(args: argparse.Namespace) -> Any:
    """A fresh embedded engine holding the model file and every tuple file."""
    from mcp_grpc.authz.files import load_model_file, load_tuples
    from mcp_grpc.authz.storetest import build_engine

    model = load_model_file(args.model)
    tuples: list[TupleKey] = []
    for path in args.tuples:
        tuples.extend(load_tuples(path))
    return build_engine(model, tuples)


def _contextual_tuples(args: argparse.Namespace) -> list[TupleKey]:
    from mcp_grpc.authz.files import load_tuples, parse_tuple_entry

    tuples: list[TupleKey] = []
    for index, text in enumerate(args.contextual_tuple):
        parts = text.split()
        if len(parts) != 3:
            raise CommandError(f'--contextual-tuple {text!r} must be "USER RELATION OBJECT"')
        user, relation, obj = parts
        tuples.append(
            parse_tuple_entry(
                {"user": user, "relation": relation, "object": obj}, path="--contextual-tuple", index=index
            )
        )
    if args.contextual_tuples:
        tuples.extend(load_tuples(args.contextual_tuples))
    return tuples


def _check_request(args: argparse.Namespace) -> CheckRequest:
    """The one check ``check`` and ``explain`` both ask: user, relation, object, context, contextual tuples."""
    return CheckRequest(
        user=args.user,
        relation=args.relation,
        object=args.object,
        context=request_context(args),
        contextual_tuples=tuple(_contextual_tuples(args)),
    )


def run_check(args: argparse.Namespace) -> int:
    store = _load_store(args)
    request = _check_request(args)
    result = store.check(request)
    if args.json:
        print(json.dumps({
            "user": args.user, "relation": args.relation, "object": args.object,
            "outcome": result.outcome.value, "allowed": result.allowed,
            "error": result.error, "error_code": result.error_code,
        }))
    elif result.outcome is Outcome.ERROR:
        print(f"error: {result.error}" + (f" (code {result.error_code})" if result.error_code else ""))
    else:
        print(result.outcome.value)
    if result.outcome is Outcome.ERROR:
        return EXIT_ERROR
    return EXIT_OK if result.allowed else EXIT_FAILED


def _print_list(args: argparse.Namespace, key: str, result: Any, query: Mapping[str, Any]) -> int:
    if result.error is not None:
        if args.json:
            print(json.dumps({**query, key: None, "error": result.error, "error_code": result.error_code}))
        else:
            print(f"error: {result.error}" + (f" (code {result.error_code})" if result.error_code else ""))
        return EXIT_ERROR
    items = sorted(result.items)
    if args.json:
        print(json.dumps({**query, key: items}))
    else:
        for item in items:
            print(item)
    return EXIT_OK


def run_list_objects(args: argparse.Namespace) -> int:
    store = _load_store(args)
    result = store.list_objects(
        args.user, args.relation, args.type, context=request_context(args), contextual_tuples=_contextual_tuples(args)
    )
    return _print_list(args, "objects", result, {"user": args.user, "relation": args.relation, "type": args.type})


def run_list_users(args: argparse.Namespace) -> int:
    store = _load_store(args)
    result = store.list_users(
        args.object,
        args.relation,
        list(args.user_filter),
        context=request_context(args),
        contextual_tuples=_contextual_tuples(args),
    )
    query = {"object": args.object, "relation": args.relation, "user_filter": list(args.user_filter)}
    return _print_list(args, "users", result, query)


def run_explain(args: argparse.Namespace) -> int:
    store = _load_store(args)
    request = _check_request(args)
    explanation = store.explain(
        request.user, request.relation, request.object,
        context=request.context, contextual_tuples=request.contextual_tuples,
    )
    if args.json:
        print(json.dumps(explanation.to_dict(), default=str))
    else:
        print(explanation.render())
    if explanation.outcome == Outcome.ERROR.value:
        return EXIT_ERROR
    return EXIT_OK if explanation.allowed else EXIT_FAILED
