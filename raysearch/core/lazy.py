"""A package's names imported on first use (PEP 562), so importing the package stays light:
``raysearch`` (its API imports torch, Ray and pandas) and ``raysearch.search.simulation``
(its engine imports Ray Tune and Optuna)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, modules: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose names in ``modules`` (name
    -> the module that defines it) are imported on first use. ``dir()`` offers the package's
    ``__all__``, the subpackages loaded so far and its underscore names, not the names its
    ``__init__`` imports to build itself."""

    def getattr_(name: str) -> Any:
        if name not in modules:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(modules[name]), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def dir_() -> list[str]:
        names = vars(sys.modules[package])
        loaded = {
            n for n, v in names.items()
            if isinstance(v, ModuleType) and v.__name__.startswith(f"{package}.")
        }  # fmt: skip
        return sorted({*names.get("__all__", ()), *loaded, *(n for n in names if n[0] == "_")})

    return getattr_, dir_
