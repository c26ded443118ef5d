"""Where validators get trust anchors: the X.509 and JWT bundles of each trust domain.

Validators never pool roots: a peer claiming trust domain T is verified only against T's own bundle, so a federated
CA cannot issue IDs in our trust domain. ``generation`` changes whenever any bundle changes, so caches of verdicts
can be dropped exactly then.
"""

from __future__ import annotations

import threading
from typing import Mapping, Protocol, Sequence

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes


class TrustBundles(Protocol):
    @property
    def generation(self) -> int:
        """Changes on every bundle update."""
        ...

    def x509_authorities(self, trust_domain: str) -> Sequence[x509.Certificate] | None:
        """The X.509 roots of ``trust_domain`` (name without scheme), or None if the domain is unknown."""
        ...

    def jwt_authorities(self, trust_domain: str) -> Mapping[str, PublicKeyTypes] | None:
        """The JWT signing keys of ``trust_domain`` by key id, or None if the domain is unknown."""
        ...


class StaticTrustBundles:
    """Bundles held in memory and replaced whole; used for tests and for bundles read from files."""

    def __init__(
        self,
        x509_bundles: Mapping[str, Sequence[x509.Certificate]] | None = None,
        jwt_bundles: Mapping[str, Mapping[str, PublicKeyTypes]] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._x509 = dict(x509_bundles or {})
        self._jwt = dict(jwt_bundles or {})
        self._generation = 0

    @property
    def generation(self) -> int:
        return self._generation

    def x509_authorities(self, trust_domain: str) -> Sequence[x509.Certificate] | None:
        return self._x509.get(trust_domain)

    def jwt_authorities(self, trust_domain: str) -> Mapping[str, PublicKeyTypes] | None:
        return self._jwt.get(trust_domain)

    def replace(
        self,
        x509_bundles: Mapping[str, Sequence[x509.Certificate]] | None = None,
        jwt_bundles: Mapping[str, Mapping[str, PublicKeyTypes]] | None = None,
    ) -> None:
        with self._lock:
            if x509_bundles is not None:
                self._x509 = dict(x509_bundles)
            if jwt_bundles is not None:
                self._jwt = dict(jwt_bundles)
            self._generation += 1
