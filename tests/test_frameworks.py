"""The book's PyTorch and JAX snippets agree with calcml (chapter 2, "The same thing in
PyTorch and JAX").

The snippets in ``book/snippets/`` are shown on the page with ``literalinclude`` but not
executed by the book build, which needs neither framework. This test runs the very same
files and checks every quantity against ``calcml_small_net.py`` to 1e-12.

A framework that is not installed is skipped, unless ``CALCML_REQUIRE_FRAMEWORKS`` names
it: a comma-separated list (``torch``, ``jax``, ``torch,jax``), or ``1`` for all of them.
``.ci/run`` installs PyTorch (Python 3.11, off GitHub) or JAX (on GitHub runners and
other Pythons) and sets the variable, so there a missing framework fails.
"""

from __future__ import annotations

import importlib.util
import os
import runpy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:DeprecationWarning")

SNIPPETS = Path(__file__).resolve().parent.parent / "book" / "snippets"
FRAMEWORKS = {"torch": "torch_small_net.py", "jax": "jax_small_net.py"}
QUANTITIES = ["value", "gradient", "gradient_only", "H", "Hv", "J_rev", "J_fwd", "Jv", "uJ"]


def required(framework: str) -> bool:
    names = os.environ.get("CALCML_REQUIRE_FRAMEWORKS", "").replace(" ", "")
    return names in ("1", "all") or framework in names.split(",")


def as_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    return runpy.run_path(str(SNIPPETS / "calcml_small_net.py"))


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_framework_snippet_agrees_with_calcml(framework: str, reference: dict[str, Any]) -> None:
    if importlib.util.find_spec(framework) is None:
        if required(framework):
            pytest.fail(f"{framework} is not installed, but CALCML_REQUIRE_FRAMEWORKS requires it")
        pytest.skip(f"{framework} is not installed")
    result = runpy.run_path(str(SNIPPETS / FRAMEWORKS[framework]))
    for name in QUANTITIES:
        got, want = as_numpy(result[name]), as_numpy(reference[name])
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)
    assert as_numpy(result["value"]).dtype == np.float64
    if framework == "torch":
        np.testing.assert_allclose(
            as_numpy(result["gradient_tape"]), reference["gradient"], rtol=1e-12, atol=1e-12
        )


def test_reference_snippet_matches_closed_forms(reference: dict[str, Any]) -> None:
    # The calcml snippet itself: the Jacobian of the hidden layer in closed form, and
    # the JVP, VJP and HVP consistent with the Jacobian and the Hessian.
    theta, x_in = reference["theta"], reference["x_in"]
    W1, b1 = theta[:4].reshape(2, 2), theta[4:6]
    a = np.tanh(W1 @ x_in + b1)
    J = np.zeros((2, 9))
    J[:, :4] = (1 - a**2)[:, None] * np.kron(np.eye(2), x_in)  # d a_i / d W1[i, j]
    J[:, 4:6] = np.diag(1 - a**2)
    np.testing.assert_allclose(reference["J_rev"], J, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(reference["Jv"], J @ reference["v"], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(reference["uJ"], reference["u"] @ J, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(
        reference["Hv"], reference["H"] @ reference["v"], rtol=1e-13, atol=1e-15
    )
    assert type(reference["value"]) is float


@pytest.mark.parametrize(
    ("setting", "framework", "expected"),
    [
        ("", "torch", False),
        ("1", "jax", True),
        ("torch", "torch", True),
        ("torch", "jax", False),
        ("torch, jax", "jax", True),
        ("all", "torch", True),
    ],
)
def test_require_variable(monkeypatch, setting: str, framework: str, expected: bool) -> None:
    monkeypatch.setenv("CALCML_REQUIRE_FRAMEWORKS", setting)
    assert required(framework) is expected


def test_the_page_runs_the_calcml_snippet() -> None:
    # The page shows the calcml code as an executed cell (it must run in Colab and Binder,
    # where book/snippets/ may be absent): that cell is the snippet file's code.
    snippet = (SNIPPETS / "calcml_small_net.py").read_text(encoding="utf-8")
    body = snippet[snippet.index("x_in = np.array") :].rstrip("\n")
    page = (SNIPPETS.parent / "chain_rule_backpropagation.md").read_text(encoding="utf-8")
    assert f"```{{code-cell}} ipython3\n{body}\n```" in page
    for name in FRAMEWORKS.values():
        assert f"```{{literalinclude}} snippets/{name}" in page
