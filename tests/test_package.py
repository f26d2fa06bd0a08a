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


def test_importing_plotting_leaves_matplotlib_alone() -> None:
    # The book applies its style explicitly (use_book_style); an import changes nothing.
    code = (
        "import matplotlib as mpl; before = dict(mpl.rcParams); import calcml.plotting; "
        "print(dict(mpl.rcParams) == before)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True"]


RESULT_TYPES = [
    ("calcml.curvature", "EigenResult"),
    ("calcml.curvature", "MinimizeResult"),
    ("calcml.differentiate", "ErrorVsStep"),
    ("calcml.integrate", "ImportanceSamplingResult"),
    ("calcml.integrate", "LaplaceResult"),
    ("calcml.integrate", "MonteCarloResult"),
    ("calcml.nn", "TrainResult"),
    ("calcml.taylor", "QuadraticModel"),
]


@pytest.mark.parametrize(("module", "name"), RESULT_TYPES)
def test_results_are_frozen_keyword_only_dataclasses_without_defaults(module, name) -> None:
    import dataclasses

    cls = getattr(importlib.import_module(module), name)
    params = cls.__dataclass_params__
    assert dataclasses.is_dataclass(cls) and params.frozen
    fields = dataclasses.fields(cls)
    assert all(f.kw_only for f in fields)
    assert all(f.default is dataclasses.MISSING for f in fields)  # no placeholders
    # SciPy's vocabulary: converged is spelled success
    names = {f.name for f in fields}
    assert "converged" not in names
    if "nit" in names and name != "TrainResult":
        assert {"success", "message"} <= names


def test_every_public_function_documents_its_book_section() -> None:
    # The links come from one base URL (calcml._validation.BOOK_URL).
    import inspect

    from calcml._validation import BOOK_URL

    for module_name in ("differentiate", "curvature", "integrate", "nn", "symbolic", "taylor"):
        module = importlib.import_module(f"calcml.{module_name}")
        assert f"Book: {BOOK_URL}book/" in (module.__doc__ or "")
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                assert f"Book: {BOOK_URL}book/" in (obj.__doc__ or ""), f"{module_name}.{name}"
