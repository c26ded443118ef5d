"""``mcp-grpc serve``'s authorization flags: the enforced model (``--authz-dir`` or ``--openfga-url``) and a shadow
model deciding beside it, never enforced (``--shadow-authz-dir`` or ``--shadow-openfga-model``)."""

from __future__ import annotations

import argparse
import os
import pathlib
from typing import Any, Callable

from mcp_grpc.contract.extras import MissingExtra

__all__ = ["add_authz_flags", "authorizer_from_args", "check_authz_flags"]


def add_authz_flags(parser: argparse.ArgumentParser) -> None:
    """The "authorization (OpenFGA)" group of ``serve`` (read by ``authorizer_from_args``)."""
    authz = parser.add_argument_group("authorization (OpenFGA)")
    authz.add_argument("--authz-dir", help="model and tuples for the embedded engine, reloaded on change (e.g. authz/)")
    authz.add_argument("--openfga-url", help="URL of an OpenFGA server (instead of the embedded engine)")
    authz.add_argument("--openfga-store", help="the OpenFGA store id (with --openfga-url)")
    authz.add_argument("--openfga-model", help="the authorization model id (default: the store's latest)")
    authz.add_argument(
        "--openfga-token", default=os.environ.get("OPENFGA_API_TOKEN"), help="API token (default $OPENFGA_API_TOKEN)"
    )
    authz.add_argument("--authz-timeout", type=float, default=1.0, metavar="SECONDS", help="per check (default 1)")
    authz.add_argument("--no-authz-cache", action="store_true", help="ask the backend on every call")
    authz.add_argument(
        "--no-authz",
        action="store_true",
        help="serve without authorization: every authenticated caller may use everything (must be explicit)",
    )
    authz.add_argument(
        "--shadow-authz-dir",
        metavar="DIR",
        help="a candidate model and tuples (embedded engine, reloaded on change) that decide every call too, never "
        "enforced: disagreements go to the audit record (shadow) and the mcp_grpc.authz.shadow.disagreements metric",
    )
    authz.add_argument(
        "--shadow-openfga-model",
        metavar="MODEL_ID",
        help="with --openfga-url: a second model id of the same store, deciding every call as --shadow-authz-dir does",
    )
    authz.add_argument(
        "--shadow-timeout",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how long the shadow model may take per call; it never delays the call itself (default 1)",
    )


def check_authz_flags(args: argparse.Namespace, error: Callable[[str], Exception]) -> None:
    """Refuse flags that do not fit together, before anything is loaded; ``error`` makes the exception to raise."""
    if args.authz_dir and args.openfga_url:
        raise error("give either --authz-dir or --openfga-url, not both")
    if args.openfga_url and not args.openfga_store:
        raise error("--openfga-url needs --openfga-store STORE_ID")
    for flag, path in (("--authz-dir", args.authz_dir), ("--shadow-authz-dir", args.shadow_authz_dir)):
        if path and not pathlib.Path(path).is_dir():
            raise error(f"{flag} {path}: no such directory")
    if args.shadow_authz_dir and args.shadow_openfga_model:
        raise error("give either --shadow-authz-dir or --shadow-openfga-model, not both (one shadow model)")
    if args.shadow_openfga_model and not args.openfga_url:
        raise error("--shadow-openfga-model needs --openfga-url (it names another model of the same store)")
    shadowed = bool(args.shadow_authz_dir or args.shadow_openfga_model)
    if shadowed and not (args.authz_dir or args.openfga_url):
        raise error("a shadow model needs an enforced one: give --authz-dir or --openfga-url too")
    if shadowed and not args.shadow_timeout > 0:
        raise error("--shadow-timeout must be > 0 seconds")


def authorizer_from_args(args: argparse.Namespace, security: Any, error: Callable[[str], Exception]) -> Any:
    """The authorizer the flags name (a ``ShadowAuthorizer`` with a shadow model), or None for none.

    ``error`` makes the exception to raise with a precise message (``serve`` exits 2 with it).
    """
    check_authz_flags(args, error)
    shadowed = bool(args.shadow_authz_dir or args.shadow_openfga_model)
    enforced = None
    if args.authz_dir:
        enforced = _from_dir(args, args.authz_dir, "--authz-dir", security, error, metrics=True)
    elif args.openfga_url:
        enforced = _from_openfga(args, args.openfga_model, security, error, metrics=True)
    if enforced is None or not shadowed:
        return enforced
    if args.shadow_authz_dir:
        shadow = _from_dir(args, args.shadow_authz_dir, "--shadow-authz-dir", security, error, metrics=False)
    else:
        shadow = _from_openfga(args, args.shadow_openfga_model, security, error, metrics=False)
    return security.shadow_authorizer(enforced, shadow, timeout=args.shadow_timeout)


def _from_dir(
    args: argparse.Namespace, path: str, flag: str, security: Any, error: Callable[[str], Exception], *, metrics: bool
) -> Any:
    from mcp_grpc.authz.files import FileFormatError

    try:
        return security.authorizer_from_authz_dir(
            path, cache=not args.no_authz_cache, timeout=args.authz_timeout, metrics=metrics
        )
    except (FileFormatError, OSError) as exc:  # file:line: what is wrong, not a traceback
        raise error(f"{flag} {path}: {exc}") from None


def _from_openfga(
    args: argparse.Namespace, model_id: str | None, security: Any, error: Callable[[str], Exception], *, metrics: bool
) -> Any:
    try:
        return security.authorizer_from_openfga(
            args.openfga_url,
            args.openfga_store,
            model_id=model_id,
            api_token=args.openfga_token,
            timeout=args.authz_timeout,
            cache=not args.no_authz_cache,
            metrics=metrics,
        )
    except MissingExtra:  # not a bad setting: main() prints which extra to install
        raise
    except Exception as exc:  # the SDK validates ids and URLs eagerly: a precise message, not a traceback
        raise error(f"bad OpenFGA settings: {exc}") from None
