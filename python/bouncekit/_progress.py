"""Progress bars for long batch work (tqdm when installed, silent otherwise)."""

from __future__ import annotations

import sys
from typing import Any, Optional

__all__ = ["progress_bar"]

# Work below this many rows finishes in about a second: no bar by default.
AUTO_THRESHOLD_ROWS = 2_000_000


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, desc: str, enabled: Optional[bool], unit: str = "rows") -> Any:
    """A tqdm bar when `enabled` (None: only for large inputs on a terminal or notebook)."""
    if enabled is None:
        enabled = total >= AUTO_THRESHOLD_ROWS and (sys.stderr.isatty() or "ipykernel" in sys.modules)
    if not enabled:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, leave=False)
