"""How a tick ended, as the job runner reports it and ``--status`` shows it (a leaf: the control
commands import it without the jobs)."""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: --status's quick answer imports this module, and typing costs
if TYPE_CHECKING:
    from typing import Final

#: Done; rTorrent unreachable; rTorrent refused a call (it answered); a bug in the job.
OK: Final = "ok"
UNREACHABLE: Final = "unreachable"
FAULT: Final = "fault"
ERROR: Final = "error"
