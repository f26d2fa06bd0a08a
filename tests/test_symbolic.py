"""Tests of calcml.symbolic: SymPy results checked against hand derivatives and numbers."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import rosen, rosen_der, rosen_hess

from calcml import differentiate
from calcml.symbolic import gradient, hessian, lambdify

x, y, z, a = sp.symbols("x y z a")


def test_gradient_by_hand():
    g = gradient(x**2 * y + sp.exp(x * z), [x, y, z])
    assert g.shape == (3, 1)
    expected = sp.Matrix([2 * x * y + z * sp.exp(x * z), x**2, x * sp.exp(x * z)])
    assert sp.simplify(g - expected) == sp.zeros(3, 1)


def test_gradient_treats_other_symbols_as_constants():
    assert gradient(a * x**2, [x]) == sp.Matrix([2 * a * x])


def test_hessian_is_symmetric_and_matches_scipy_rosenbrock():
    syms = sp.symbols("x0:4")
    rosen_expr = sum(100 * (syms[i + 1] - syms[i] ** 2) ** 2 + (1 - syms[i]) ** 2 for i in range(3))
    H = hessian(rosen_expr, syms)
    assert H == H.T
    point = np.array([0.3, -1.2, 2.0, 0.7])
    np.testing.assert_allclose(lambdify(H, syms)(point), rosen_hess(point), rtol=1e-14)
    np.testing.assert_allclose(
        lambdify(gradient(rosen_expr, syms), syms)(point), rosen_der(point), rtol=1e-14
    )
    assert lambdify(rosen_expr, syms)(point) == pytest.approx(rosen(point), rel=1e-14)


@given(st.floats(-3, 3), st.floats(-3, 3))
@settings(max_examples=30)
def test_symbolic_gradient_agrees_with_numeric(u, v):
    expr = sp.sin(x) * y**2 + sp.exp(x - y)
    f = lambdify(expr, [x, y])
    exact = lambdify(gradient(expr, [x, y]), [x, y])(np.array([u, v]))
    numeric = differentiate.gradient(f, [u, v], method="complex")
    np.testing.assert_allclose(numeric, exact, rtol=1e-13, atol=1e-13)


def test_lambdify_shapes():
    f = lambdify(x * y, [x, y])
    assert isinstance(f([2.0, 3.0]), float)
    pts = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(f(pts), [4.0, 10.0, 18.0])
    # A constant broadcasts over the points, and is a float.
    c = lambdify(sp.Integer(3), [x, y])(pts)
    assert c.dtype == np.float64
    np.testing.assert_array_equal(c, [3.0, 3.0, 3.0])
    # Hessian over points: (n, n, points); constant entries broadcast.
    H = lambdify(hessian(x**2 * y, [x, y]), [x, y])(pts)
    assert H.shape == (2, 2, 3)
    np.testing.assert_array_equal(H[1, 1], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(H[0, 1], 2 * pts[0])
    # Single symbol: elementwise.
    s = lambdify(sp.tanh(x), x)
    np.testing.assert_allclose(s(np.linspace(-1, 1, 5)), np.tanh(np.linspace(-1, 1, 5)))
    assert s(0.5) == pytest.approx(np.tanh(0.5))
    # A row vector keeps its 2-D shape; an N-dim array is accepted.
    assert lambdify(sp.Matrix([[x, y]]), [x, y])([1.0, 2.0]).shape == (1, 2)
    arr = lambdify(sp.Array([x, 2 * x]), x)(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(arr, [[1.0, 2.0], [2.0, 4.0]])


def test_lambdify_complex_input_for_the_complex_step():
    f = lambdify(sp.exp(x) * sp.sin(x), x)
    h = 1e-20
    assert (f(1.0 + 1j * h).imag / h) == pytest.approx(
        np.exp(1.0) * (np.sin(1.0) + np.cos(1.0)), rel=1e-15
    )


def test_bad_input():
    with pytest.raises(TypeError, match="`expr` must be a SymPy expression, got str"):
        gradient("x**2", [x])
    with pytest.raises(TypeError, match="`expr` must be a SymPy expression"):
        hessian(sp.Matrix([x]), [x])
    with pytest.raises(TypeError, match="`symbols` must be a SymPy Symbol or a sequence"):
        gradient(x**2, "x")
    with pytest.raises(TypeError, match="`symbols` must be a SymPy Symbol or a sequence"):
        gradient(x**2, 3)
    with pytest.raises(ValueError, match="`symbols` must not be empty"):
        hessian(x**2, [])
    with pytest.raises(TypeError, match="`symbols` must contain SymPy Symbols, got 'x'"):
        gradient(x**2, ["x"])
    with pytest.raises(ValueError, match="`symbols` must be distinct"):
        gradient(x**2, [x, x])
    with pytest.raises(ValueError, match="`expr` has free symbols not in `symbols`: a, y"):
        lambdify(a * x * y, [x])
    f = lambdify(x * y, [x, y])
    with pytest.raises(ValueError, match=r"`x` must have first axis of length 2 .* shape \(3,\)"):
        f([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"first axis of length 2 .* shape \(\)"):
        f(1.0)
    with pytest.raises(TypeError, match="`x` must contain numbers, got dtype <U1"):
        f(["a", "b"])
