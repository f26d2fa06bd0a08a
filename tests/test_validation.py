"""The shared input checks: each names the parameter and says what was wrong."""

from __future__ import annotations

import numpy as np
import pytest

from calcml._validation import (
    as_finite_array,
    check_callable,
    check_choice,
    check_finite_scalar,
    check_int,
    check_positive,
)


def test_check_callable() -> None:
    assert check_callable(np.sin, "f") is np.sin
    with pytest.raises(TypeError, match=r"`f` must be callable, got int"):
        check_callable(3, "f")


def test_as_finite_array_converts_and_checks() -> None:
    out = as_finite_array([1, 2, 3])
    assert out.dtype == np.float64 and out.tolist() == [1.0, 2.0, 3.0]
    assert as_finite_array(1 + 2j, allow_complex=True).dtype == np.complex128
    with pytest.raises(ValueError, match=r"`x` must be finite"):
        as_finite_array([1.0, np.nan])
    with pytest.raises(ValueError, match=r"`x0` must be finite"):
        as_finite_array(np.inf, "x0")
    with pytest.raises(TypeError, match=r"`x` must contain real numbers, got dtype complex128"):
        as_finite_array(1j)
    with pytest.raises(TypeError, match=r"`x` must contain real numbers, got dtype <U1"):
        as_finite_array(["a"])
    with pytest.raises(TypeError, match=r"`x` must be array-like of numbers"):
        as_finite_array([[1.0], [1.0, 2.0]])


def test_check_finite_scalar() -> None:
    assert check_finite_scalar(np.float32(0.5)) == 0.5
    with pytest.raises(TypeError, match=r"`a` must be a real number, got bool"):
        check_finite_scalar(True, "a")
    with pytest.raises(TypeError, match=r"`a` must be a real number, got str"):
        check_finite_scalar("1", "a")
    with pytest.raises(ValueError, match=r"`b` must be finite, got inf"):
        check_finite_scalar(float("inf"), "b")


def test_check_int() -> None:
    assert check_int(np.int64(4), "n", minimum=1) == 4
    assert check_int(-3, "k") == -3
    with pytest.raises(TypeError, match=r"`n` must be an integer, got float"):
        check_int(3.0, "n")
    with pytest.raises(TypeError, match=r"`n` must be an integer, got bool"):
        check_int(True, "n")
    with pytest.raises(ValueError, match=r"`n` must be >= 1, got 0"):
        check_int(0, "n", minimum=1)


def test_check_positive() -> None:
    assert check_positive(2, "std") == 2.0
    with pytest.raises(ValueError, match=r"`std` must be positive, got 0.0"):
        check_positive(0.0, "std")
    with pytest.raises(ValueError, match=r"`std` must be finite, got nan"):
        check_positive(float("nan"), "std")


def test_check_choice() -> None:
    assert check_choice("b", "method", ["a", "b"]) == "b"
    with pytest.raises(ValueError, match=r"`method` must be one of 'a', 'b'; got 'c'"):
        check_choice("c", "method", ["a", "b"])
    with pytest.raises(ValueError, match=r"got 3"):
        check_choice(3, "method", ["a", "b"])
