"""`mcp-grpc serve --shadow-authz-dir DIR` and `--shadow-openfga-model MODEL_ID`: the authorizer they build (the
enforced model, and the shadow beside it, uncounted in the decision metrics) and the flag mistakes they refuse."""

from __future__ import annotations

import argparse
import shutil

import pytest

from mcp_grpc.cli import server_commands
from mcp_grpc.cli.main import main
from tests.support.paths import AUTHZ_DIR, REPO_ROOT

QUICKSTART = "examples/quickstart/server.py:app"
STORE = "01HVMMBCMGZNT3SED4Z17ECXCA"
MODEL = "01HVMMBD123456789ABCDEFGHJ"
NEXT_MODEL = "01HVMMBD123456789ABCDEFGHK"


def security(*flags: str):
    parser = argparse.ArgumentParser()
    server_commands.add_security_flags(parser)
    parser.add_argument("--insecure-local", action="store_true")
    return server_commands.server_security(parser.parse_args(["--insecure-local", *flags]))


def test_shadow_authz_dir_builds_a_shadow_authorizer_over_both_folders(tmp_path):
    from mcp_grpc.authz.authorizer import FgaAuthorizer
    from mcp_grpc.authz.shadow import ShadowAuthorizer

    shutil.copytree(AUTHZ_DIR, tmp_path / "authz-next")
    fields = security("--authz-dir", str(AUTHZ_DIR), "--shadow-authz-dir", str(tmp_path / "authz-next"),
                      "--shadow-timeout", "0.25")
    authorizer = fields["authorizer"]
    fields["audit_sink"].close()
    assert isinstance(authorizer, ShadowAuthorizer) and authorizer.shadow_timeout == 0.25
    assert isinstance(authorizer.enforced, FgaAuthorizer) and isinstance(authorizer.shadow, FgaAuthorizer)
    assert authorizer.enforced.backend.path == AUTHZ_DIR
    assert authorizer.shadow.backend.path == tmp_path / "authz-next"
    # the shadow's decisions are not the server's: they stay out of mcp_grpc.authz.decisions and its spans
    assert authorizer.shadow.telemetry.tracing() is False
    assert authorizer.enforced.telemetry is not authorizer.shadow.telemetry


def test_shadow_openfga_model_is_a_second_model_of_the_same_store():
    fields = security("--openfga-url", "http://127.0.0.1:1", "--openfga-store", STORE, "--openfga-model", MODEL,
                      "--shadow-openfga-model", NEXT_MODEL)
    fields["audit_sink"].close()
    enforced, shadow = fields["authorizer"].enforced, fields["authorizer"].shadow
    assert enforced.backend.configuration.store_id == shadow.backend.configuration.store_id == STORE
    assert enforced.backend.configuration.authorization_model_id == MODEL
    assert shadow.backend.configuration.authorization_model_id == NEXT_MODEL


def test_without_a_shadow_the_authorizer_is_the_enforced_one_alone():
    from mcp_grpc.authz.authorizer import FgaAuthorizer

    fields = security("--authz-dir", str(AUTHZ_DIR))
    fields["audit_sink"].close()
    assert type(fields["authorizer"]) is FgaAuthorizer


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--shadow-authz-dir", "authz"), "a shadow model needs an enforced one: give --authz-dir or --openfga-url"),
        (("--authz-dir", "authz", "--shadow-authz-dir", "no/such/dir"), "--shadow-authz-dir no/such/dir: no such"),
        (("--authz-dir", "authz", "--shadow-openfga-model", NEXT_MODEL), "--shadow-openfga-model needs --openfga-url"),
        (("--openfga-url", "http://127.0.0.1:1", "--openfga-store", STORE, "--shadow-authz-dir", "authz",
          "--shadow-openfga-model", NEXT_MODEL), "either --shadow-authz-dir or --shadow-openfga-model"),
        (("--authz-dir", "authz", "--shadow-authz-dir", "authz", "--shadow-timeout", "0"),
         "--shadow-timeout must be > 0"),
        (("--openfga-url", "http://127.0.0.1:1", "--openfga-store", STORE, "--shadow-openfga-model", "bad id"),
         "bad OpenFGA settings"),
    ],
)
def test_serve_refuses_shadow_flags_that_do_not_fit(flags, message, capsys, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    assert main(["serve", QUICKSTART, "--insecure-local", "--port", "0", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err


def test_a_broken_shadow_folder_is_named_with_its_file_and_line(tmp_path, capsys, monkeypatch):
    shadow = tmp_path / "authz-next"
    shutil.copytree(AUTHZ_DIR, shadow)
    (shadow / "tuples.yaml").write_text("- user: agent:a\n  relation: membr\n  object: team:x\n")
    monkeypatch.chdir(REPO_ROOT)
    assert main(["serve", QUICKSTART, "--insecure-local", "--port", "0", "--authz-dir", "authz",
                 "--shadow-authz-dir", str(shadow)]) == 2
    err = capsys.readouterr().err
    assert f"--shadow-authz-dir {shadow}: {shadow}/tuples.yaml:1:" in err, err
