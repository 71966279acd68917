"""Deferred imports of heavy optional-at-start-up modules.

``import bouncekit`` should not pay for pandas (about 0.4 s) when the work at
hand only needs Arrow: the history and W1 paths read Parquet and write CSV
without it. Modules that return DataFrames bind ``pd = lazy_module("pandas")``
at run time (and the real module under ``TYPE_CHECKING``), so pandas is
imported on first use of any ``pd.`` attribute.

>>> m = lazy_module("json")
>>> m.dumps([1])
'[1]'
"""

from __future__ import annotations

import importlib
import types
from typing import Any


class _LazyModule(types.ModuleType):
    """A stand-in that imports the real module on first attribute access."""

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__name__)
        return getattr(module, attr)


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
