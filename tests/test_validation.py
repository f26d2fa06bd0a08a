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


def test_check_rng_follows_default_rng() -> None:
    from calcml._validation import check_rng

    gen = np.random.default_rng(3)
    assert check_rng(gen) is gen  # a Generator is used as it is
    assert check_rng(5).random() == np.random.default_rng(5).random()
    assert isinstance(check_rng(None), np.random.Generator)
    assert check_rng(None).random() != check_rng(None).random()  # fresh entropy
    with pytest.raises(TypeError, match=r"`rng` must be None, an integer seed or a numpy"):
        check_rng(1.5)
    with pytest.raises(TypeError, match=r"got bool"):
        check_rng(True)
    with pytest.raises(ValueError, match=r"`rng` is not a valid seed"):
        check_rng(-1)


def test_check_limits_and_nonnegative() -> None:
    from calcml._validation import check_limits, check_nonnegative

    assert check_limits(-np.inf, 1) == (-np.inf, 1.0)
    assert check_limits(2, 1, finite_for="simpson_rule") == (2.0, 1.0)
    with pytest.raises(ValueError, match=r"`a` must be less than `b`, got a=2.0, b=1.0"):
        check_limits(2, 1)
    with pytest.raises(ValueError, match=r"`b` must be finite for simpson_rule, got inf"):
        check_limits(0, np.inf, finite_for="simpson_rule")
    with pytest.raises(ValueError, match=r"`a` must not be NaN"):
        check_limits(np.nan, 1)
    with pytest.raises(TypeError, match=r"`b` must be a real number, got str"):
        check_limits(0, "1")
    assert check_nonnegative(0, "tol") == 0.0
    with pytest.raises(ValueError, match=r"`tol` must be >= 0, got -1.0"):
        check_nonnegative(-1, "tol")


def test_output_checks_split_type_from_value() -> None:
    from calcml._validation import real_output, scalar_output

    assert scalar_output(np.array([[2]])) == 2.0 and type(scalar_output(2)) is float
    assert real_output(1j, "f", allow_complex=True).dtype == np.complex128
    with pytest.raises(TypeError, match=r"`f` must return real numbers, got dtype complex128"):
        real_output(1j, "f")
    with pytest.raises(TypeError, match=r"`f` must return real numbers, got dtype object"):
        scalar_output(None)
    with pytest.raises(TypeError, match=r"`g` must return real numbers: "):
        real_output([[1.0], [1.0, 2.0]], "g")
    with pytest.raises(ValueError, match=r"`f` must return a scalar, got shape \(2,\)"):
        scalar_output([1.0, 2.0])
    with pytest.raises(ValueError, match=r"`grad` must return shape \(3,\), got shape \(2,\)"):
        real_output([1.0, 2.0], "grad", shape=(3,))


def test_book_links_share_one_base_url() -> None:
    from calcml._validation import BOOK_URL, book_link, documented_in

    @documented_in("hessian_and_curvature", "critical-points")
    class Example:
        """An example.

        Attributes
        ----------
        x : int
        """

    assert Example.__doc__ is not None
    assert Example.__doc__.startswith("An example.\n\nAttributes\n----------\nx : int")
    assert Example.__doc__.endswith(
        f"Book: {BOOK_URL}book/hessian_and_curvature.html#critical-points\n"
    )
    assert book_link("intro") == f"{BOOK_URL}book/intro.html"
