"""calcml: the tested package behind *Calculus for Machine Learning*.

Each submodule belongs to one chapter of the book and is imported on first use,
so ``import calcml`` is cheap and ``calcml.differentiate.derivative`` just works.

Book: https://calcml.github.io/calculus-for-ml/
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "0.1.0"

#: The chapter modules, in book order, plus the shared helpers.
__all__ = [
    "autodiff",
    "curvature",
    "differentiate",
    "integrate",
    "nn",
    "plotting",
    "symbolic",
    "taylor",
    "testing",
]


def __getattr__(name: str) -> ModuleType:
    """Import a submodule lazily: ``calcml.taylor`` imports :mod:`calcml.taylor`."""
    if name in __all__:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
