"""A development SPIFFE Workload API server (``mcp-grpc identity dev``).

One Unix socket per workload at ``<socket_dir>/<name>.sock``: gRPC Python cannot see a peer's uid or pid, so the
socket a workload connects to is its attestation. The trust bundle is written to ``<socket_dir>/bundle.pem`` (and the
full SPIFFE bundle, with JWT keys, to ``<socket_dir>/bundle.spiffe.json``, usable by another server's ``--federate``).

The SVIDs come from the development CA: :mod:`.ca` (``SvidAuthority``: issuing and rotation), :mod:`.authorities`
(key material, ``load_ca``), :mod:`.ca_inputs` (``CaError``, name checks) and :mod:`.ca_state` (persistence).

The server modules import py-spiffe's generated Workload API code (``spiffe._proto``); they never generate their own,
which would collide with it in protobuf's default pool. Tests and tools run the server as its own process through the
CLI.
"""
