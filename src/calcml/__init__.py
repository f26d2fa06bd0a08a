"""calcml: the tested package behind *Calculus for Machine Learning*.

The chapter modules follow the book (``differentiate``; ``autodiff`` with the
networks of ``nn``; ``taylor``; ``curvature``; ``integrate``) and ``symbolic``,
``testing`` and ``plotting`` are helpers used throughout. Each is imported on
first use, so ``import calcml`` is cheap and ``calcml.differentiate.derivative``
just works.

Conventions shared by every module:

- **Scalars.** A numeric result of shape ``()`` is a Python ``float`` (an
  integral, an error, a derivative at a scalar ``x``, a Jacobian of a scalar
  function of a scalar); every other numeric result is a float64 NumPy array.
  No function returns a NumPy scalar or a 0-d array.
- **Shapes.** A Jacobian has shape ``f(x).shape + x.shape`` and a Hessian
  ``x.shape + x.shape``, as in JAX. Functions of several variables take them
  along the first axis: ``x[i]`` is the ``i``-th variable.
- **Randomness.** Every function that draws random numbers takes a keyword
  ``rng``: ``None`` (fresh entropy), an integer seed or a
  :class:`numpy.random.Generator`, as :func:`numpy.random.default_rng` accepts.
- **Errors.** A wrong type is a ``TypeError``, a wrong value a ``ValueError``;
  the message names the parameter in backticks.
- **Results.** Iterative procedures return frozen dataclasses that use SciPy's
  names where they apply (``x``, ``fun``, ``nit``, ``success``, ``message``).

Book: https://calcml.github.io/calculus-for-ml/
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "1.0.0"

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
