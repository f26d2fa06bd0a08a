"""The package namespace: submodules load lazily, unknown names fail clearly."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import calcml


def test_submodules_load_on_first_use() -> None:
    module = calcml.plotting
    assert module is importlib.import_module("calcml.plotting")
    assert "plotting" in dir(calcml)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match=r"module 'calcml' has no attribute 'nonexistent'"):
        _ = calcml.nonexistent  # type: ignore[attr-defined]


def test_import_is_cheap() -> None:
    # Importing calcml must not import matplotlib or sympy: pages pay only for what they use.
    code = "import sys, calcml; print('matplotlib' in sys.modules, 'sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_every_listed_module_exists() -> None:
    # A name in __all__ without a module would only fail when a reader touches it.
    from importlib.util import find_spec

    missing = [name for name in calcml.__all__ if find_spec(f"calcml.{name}") is None]
    assert not missing, f"calcml.__all__ names modules that do not exist: {missing}"
