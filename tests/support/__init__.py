"""Helpers shared by more than one test area. Import them as ``from tests.support.<module> import ...``.

- ``paths``: REPO_ROOT, AUTHZ_DIR (the demo store), SHARED_DIR and CONFORMANCE_DIR (../shared beside the repo)
- ``servers``: ``running(app, authorizer=None, **ServerConfig fields)``, a real grpc.aio server on 127.0.0.1
- ``ports``: ``free_port()``, and ``closed_port()`` (bound, never listening)
- ``certfactory``: ``make_ca`` and the CA's leaves, minted client certificates and JWT-SVIDs, built with cryptography
- ``workload_harness``: ``mcp-grpc identity dev`` as a subprocess (DevServer), an mTLS echo service, ``wait_for``
- ``e2e``: development Workload APIs for the demo's identities, the demo server with a JSON audit log, agents
- ``fake_openfga``: OpenFGA's HTTP API on 127.0.0.1, answering from any AuthorizationBackend

Area-specific helpers stay in their area (tests/server/server_support.py, tests/bridge/bridge_support.py, ...).
"""
