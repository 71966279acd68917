"""Deferred imports of heavy optional-at-start-up modules.

``import bouncekit`` should not pay for pandas (about 0.4 s) when the work at
hand only needs Arrow: the history and W1 paths read Parquet and write CSV
without it. Nor for numpy and pyarrow (about 0.12 s together): the history
engine reads a Parquet file in C++ while pyarrow is imported beside it.
Modules bind ``pd = lazy_module("pandas")`` (``np``, ``pa`` likewise) at run
time and the real module under ``TYPE_CHECKING``, so each is imported on
first use of one of its attributes.

>>> m = lazy_module("json")
>>> m.dumps([1])
'[1]'
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from typing import Any


class _LazyModule(types.ModuleType):
    """A stand-in that imports the real module on first attribute access.

    The real module's attributes are then copied into the stand-in, so later
    lookups (``np.int64`` in a loop) are plain attribute reads; a name the
    module adds afterwards is still found through ``__getattr__``.
    """

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            # (copy, pickle and inspect probe dunders; they must not import)
            raise AttributeError(attr)
        module = importlib.import_module(self.__name__)
        if not self.__dict__.get("_bk_loaded"):  # once: later misses (hasattr probes) copy nothing
            if _TRACE:
                _trace(self.__name__)
            self.__dict__.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
            self.__dict__["_bk_loaded"] = True
        return getattr(module, attr)


# BOUNCEKIT_TRACE_IMPORTS=1 prints where each deferred module is first used:
# the way to find which call brings numpy or pyarrow into `import bouncekit`.
_TRACE = bool(os.environ.get("BOUNCEKIT_TRACE_IMPORTS"))


def _trace(name: str) -> None:
    import traceback
    print(f"bouncekit: deferred import of {name} from:", file=sys.stderr)
    traceback.print_stack(limit=6, file=sys.stderr)


def lazy_module(name: str) -> Any:
    """A module object for ``name`` that imports it on first use."""
    return _LazyModule(name)


def loaded_instance(value: Any, module: str, cls: str) -> bool:
    """``isinstance(value, module.cls)`` without importing ``module``: an
    object of a class from a module that was never imported cannot exist.

    >>> loaded_instance(3, "json", "JSONDecoder")
    False
    """
    import sys

    mod = sys.modules.get(module)
    return mod is not None and isinstance(value, getattr(mod, cls))
