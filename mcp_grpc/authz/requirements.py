"""What a tool, resource or prompt declares it needs: relationship checks built from its validated arguments."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    """One required relationship: the caller must have ``relation`` on ``object_template``.

    ``object_template`` is ``type:id`` where the id may name validated arguments in braces, e.g. ``bucket:{bucket}``
    or ``tool:{server}/{tool}``. Example: ``@app.tool(authorize=[Check("can_read", "bucket:{bucket}")])``.
    """

    relation: str
    object_template: str
