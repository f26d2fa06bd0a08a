"""A multilayer perceptron with backpropagation written out by hand.

Every layer has a ``forward`` method that keeps what its derivative needs and a
``backward`` method that takes dL/d(output) and returns dL/d(input), storing
the gradients of its own parameters on the way: the chain rule, one layer at a
time, in matrix form. :func:`sgd` trains a network with plain stochastic
gradient descent. The same gradients come out of :mod:`calcml.autodiff`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from calcml._validation import (
    Seed,
    as_finite_array,
    check_choice,
    check_int,
    check_nonnegative,
    check_positive,
    check_rng,
    documented_in,
    with_book_link,
)

__doc__ = with_book_link(__doc__, "chain_rule_backpropagation")

__all__ = [
    "MLP",
    "Dense",
    "MSELoss",
    "ReLU",
    "Sigmoid",
    "SoftmaxCrossEntropy",
    "Tanh",
    "TrainResult",
    "sgd",
    "two_moons",
]

Array = NDArray[np.float64]


@documented_in("chain_rule_backpropagation", "backpropagation-in-matrix-form")
class Dense:
    """The affine layer ``y = x W + b`` for a batch ``x`` of shape (batch, n_in).

    ``W`` starts as Gaussian noise with standard deviation ``gain / sqrt(n_in)``
    and ``b`` as zeros.

    Parameters
    ----------
    n_in, n_out : int
        The input and output widths, each at least 1.
    rng : None, int or numpy.random.Generator, optional
        Source of the initial weights, as :func:`numpy.random.default_rng`
        accepts it (``None``: fresh entropy).
    gain : float, optional
        Initial weight scale times ``1 / sqrt(n_in)``.

    Examples
    --------
    >>> layer = Dense(3, 2, rng=0)
    >>> y = layer.forward(np.ones((4, 3)))
    >>> dx = layer.backward(np.ones((4, 2)))
    >>> layer.dW.shape, layer.db, dx.shape
    ((3, 2), array([4., 4.]), (4, 3))
    """

    def __init__(self, n_in: int, n_out: int, *, rng: Seed = None, gain: float = 1.0) -> None:
        n_in, n_out = check_int(n_in, "n_in", minimum=1), check_int(n_out, "n_out", minimum=1)
        scale = check_positive(gain, "gain") / np.sqrt(n_in)
        self.W: Array = check_rng(rng).normal(0.0, scale, (n_in, n_out))
        self.b: Array = np.zeros(n_out)
        self.dW: Array = np.zeros_like(self.W)
        self.db: Array = np.zeros_like(self.b)
        self._x: Array = np.zeros((0, n_in))

    def forward(self, x: Array) -> Array:
        """Return ``x W + b`` and keep ``x`` for the backward pass."""
        self._x = x
        return x @ self.W + self.b

    def backward(self, g: Array) -> Array:
        """Store dL/dW = x^T g and dL/db = column sums of g; return dL/dx = g W^T."""
        self.dW = self._x.T @ g
        self.db = g.sum(axis=0)
        return g @ self.W.T


@documented_in("chain_rule_backpropagation", "backpropagation-in-matrix-form")
class Tanh:
    """The elementwise tanh, whose derivative 1 - tanh^2 reuses the output.

    Examples
    --------
    >>> act = Tanh()
    >>> act.forward(np.array([0.0])), act.backward(np.array([2.0]))
    (array([0.]), array([2.]))
    """

    def forward(self, x: Array) -> Array:
        """Return tanh(x) and keep it."""
        self._y: Array = np.tanh(x)
        return self._y

    def backward(self, g: Array) -> Array:
        """Return g * (1 - tanh(x)^2)."""
        return g * (1.0 - self._y * self._y)


@documented_in("chain_rule_backpropagation", "vanishing-and-exploding-gradients")
class Sigmoid:
    """The elementwise logistic sigmoid; its derivative s (1 - s) is at most 1/4.

    Examples
    --------
    >>> act = Sigmoid()
    >>> act.forward(np.array([0.0])), act.backward(np.array([1.0]))
    (array([0.5]), array([0.25]))
    """

    def forward(self, x: Array) -> Array:
        """Return 1 / (1 + exp(-x)) and keep it."""
        self._y: Array = expit(x)
        return self._y

    def backward(self, g: Array) -> Array:
        """Return g * s * (1 - s)."""
        return g * self._y * (1.0 - self._y)


@documented_in("chain_rule_backpropagation", "vanishing-and-exploding-gradients")
class ReLU:
    """The rectifier max(x, 0), with derivative 1 where x > 0 and 0 elsewhere.

    Examples
    --------
    >>> act = ReLU()
    >>> act.forward(np.array([-1.0, 2.0])), act.backward(np.array([5.0, 5.0]))
    (array([0., 2.]), array([0., 5.]))
    """

    def forward(self, x: Array) -> Array:
        """Return max(x, 0) and keep the mask x > 0."""
        self._mask = x > 0
        return np.where(self._mask, x, 0.0)

    def backward(self, g: Array) -> Array:
        """Return g where x > 0, else 0."""
        return np.where(self._mask, g, 0.0)


@documented_in("chain_rule_backpropagation", "backpropagation-step-by-step")
class MSELoss:
    """The mean squared error ``mean((pred - target)^2)`` over all entries.

    Examples
    --------
    >>> loss = MSELoss()
    >>> loss.forward(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]]))
    2.5
    >>> loss.backward()
    array([[1.],
           [2.]])
    """

    def forward(self, pred: Array, target: ArrayLike) -> float:
        """Return the loss and keep the residual."""
        t = as_finite_array(target, "target")
        if t.shape != pred.shape:
            raise ValueError(f"`target` has shape {t.shape}, the prediction has {pred.shape}")
        self._r: Array = pred - t
        return float(np.mean(self._r**2))

    def backward(self) -> Array:
        """Return dL/d(pred) = 2 (pred - target) / (number of entries)."""
        return 2.0 * self._r / self._r.size


@documented_in("chain_rule_backpropagation", "backpropagation-in-matrix-form")
class SoftmaxCrossEntropy:
    """Softmax of the logits followed by the mean cross-entropy with integer labels.

    Examples
    --------
    >>> loss = SoftmaxCrossEntropy()
    >>> round(loss.forward(np.zeros((2, 2)), np.array([0, 1])), 6)  # log 2
    0.693147
    >>> loss.backward()
    array([[-0.25,  0.25],
           [ 0.25, -0.25]])
    """

    def forward(self, logits: Array, labels: ArrayLike) -> float:
        """Return mean(-log softmax(logits)[label]) and keep the probabilities."""
        y = np.asarray(labels)
        if y.dtype.kind not in "iu":
            raise TypeError(f"`labels` must be integer class indices, got dtype {y.dtype}")
        if y.shape != logits.shape[:1]:
            raise ValueError(
                f"`labels` must be {logits.shape[0]} class indices, got shape {y.shape}"
            )
        if y.min(initial=0) < 0 or y.max(initial=0) >= logits.shape[1]:
            raise ValueError(f"`labels` must lie in [0, {logits.shape[1] - 1}]")
        z = logits - logits.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        self._p, self._y = np.exp(log_p), y
        return float(-log_p[np.arange(y.size), y].mean())

    def backward(self) -> Array:
        """Return dL/d(logits) = (softmax - one_hot(label)) / batch."""
        g = self._p.copy()
        g[np.arange(self._y.size), self._y] -= 1.0
        return g / self._y.size


_ACTIVATIONS = {"tanh": Tanh, "sigmoid": Sigmoid, "relu": ReLU}


@documented_in("chain_rule_backpropagation", "backpropagation-in-matrix-form")
class MLP:
    """A multilayer perceptron: Dense layers with an activation between them (none at the end).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, e.g. ``[2, 16, 16, 2]``; each a positive integer.
    activation : {"tanh", "sigmoid", "relu"}
        The hidden nonlinearity.
    rng : None, int or numpy.random.Generator, optional
        Source of the initial weights, as :func:`numpy.random.default_rng`
        accepts it (``None``: fresh entropy).
    gain : float
        Initial weight scale times ``1 / sqrt(fan_in)``.

    Examples
    --------
    >>> net = MLP([2, 3, 1], rng=0)
    >>> out = net.forward(np.ones((5, 2)))
    >>> grad_in = net.backward(np.ones((5, 1)))
    >>> out.shape, [g.shape for g in net.gradients()]
    ((5, 1), [(2, 3), (3,), (3, 1), (1,)])
    """

    def __init__(
        self,
        sizes: Sequence[int],
        *,
        activation: str = "tanh",
        rng: Seed = None,
        gain: float = 1.0,
    ) -> None:
        if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence):
            raise TypeError(f"`sizes` must be a sequence of integers, got {type(sizes).__name__}")
        if len(sizes) < 2:
            raise ValueError(f"`sizes` must list at least two layer widths, got {list(sizes)}")
        widths = [check_int(n, "sizes", minimum=1) for n in sizes]
        act = _ACTIVATIONS[check_choice(activation, "activation", list(_ACTIVATIONS))]
        generator = check_rng(rng)
        self.dense = [Dense(a, b, rng=generator, gain=gain) for a, b in itertools.pairwise(widths)]
        self.layers: list[Any] = []
        for i, layer in enumerate(self.dense):
            self.layers += [layer] if i == len(self.dense) - 1 else [layer, act()]
        self.sizes = widths

    def forward(self, x: ArrayLike) -> Array:
        """Run the layers in order on a batch of shape (batch, sizes[0])."""
        h = as_finite_array(x, "x")
        if h.ndim != 2 or h.shape[1] != self.sizes[0]:
            raise ValueError(f"`x` must have shape (batch, {self.sizes[0]}), got {h.shape}")
        for layer in self.layers:
            h = layer.forward(h)
        return h

    def backward(self, g: Array) -> Array:
        """Run the layers' backward passes in reverse; return dL/dx."""
        for layer in reversed(self.layers):
            g = layer.backward(g)
        return g

    def parameters(self) -> list[Array]:
        """The weights and biases ``[W1, b1, W2, b2, ...]`` (the arrays themselves)."""
        return [p for d in self.dense for p in (d.W, d.b)]

    def gradients(self) -> list[Array]:
        """The gradients from the last backward pass, in the order of :meth:`parameters`."""
        return [p for d in self.dense for p in (d.dW, d.db)]

    def loss_and_gradients(
        self, x: ArrayLike, target: ArrayLike, loss: MSELoss | SoftmaxCrossEntropy
    ) -> tuple[float, list[Array]]:
        """One forward and one backward pass: the loss and its parameter gradients."""
        value = loss.forward(self.forward(x), target)
        self.backward(loss.backward())
        return value, self.gradients()


@dataclass(frozen=True, kw_only=True)
class TrainResult:
    """What :func:`sgd` reports.

    Attributes
    ----------
    fun : float
        The training loss after the last epoch, ``losses[-1]``.
    losses : ndarray
        The training loss after each epoch (on the whole training set).
    nit : int
        The number of parameter updates made.
    """

    fun: float
    losses: Array
    nit: int


@documented_in("chain_rule_backpropagation", "backpropagation-in-matrix-form")
def sgd(
    model: MLP,
    x: ArrayLike,
    target: ArrayLike,
    loss: MSELoss | SoftmaxCrossEntropy,
    *,
    lr: float = 0.1,
    epochs: int = 100,
    batch_size: int | None = None,
    rng: Seed = None,
) -> TrainResult:
    """Train ``model`` in place by plain stochastic gradient descent ``theta -= lr * grad``.

    Each epoch shuffles the data and makes one update per mini-batch (the whole
    set when ``batch_size`` is None).

    Parameters
    ----------
    model : MLP
        The network, updated in place.
    x, target : array_like
        The inputs, shape ``(batch, sizes[0])``, and what ``loss`` compares the outputs with.
    loss : MSELoss or SoftmaxCrossEntropy
        The loss.
    lr, epochs, batch_size : float, int, int or None, optional
        The learning rate, the number of passes over the data, the mini-batch size.
    rng : None, int or numpy.random.Generator, optional
        Source of the shuffles, as :func:`numpy.random.default_rng` accepts it
        (``None``: fresh entropy).

    Returns
    -------
    TrainResult

    Examples
    --------
    >>> X, y = two_moons(100, rng=0)
    >>> net = MLP([2, 8, 2], rng=0)
    >>> res = sgd(net, X, y, SoftmaxCrossEntropy(), lr=0.5, epochs=50, rng=0)
    >>> res.nit, bool(res.losses[-1] < res.losses[0])
    (50, True)
    """
    if not isinstance(model, MLP):
        raise TypeError(f"`model` must be an MLP, got {type(model).__name__}")
    X, T = as_finite_array(x, "x"), np.asarray(target)
    if len(T) != len(X):
        raise ValueError(f"`x` has {len(X)} rows but `target` has {len(T)}")
    lr = check_positive(lr, "lr")
    epochs = check_int(epochs, "epochs", minimum=1)
    size = len(X) if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
    generator = check_rng(rng)
    losses, nit = np.empty(epochs), 0
    for epoch in range(epochs):
        order = generator.permutation(len(X))
        for start in range(0, len(X), size):
            idx = order[start : start + size]
            model.loss_and_gradients(X[idx], T[idx], loss)
            for p, g in zip(model.parameters(), model.gradients(), strict=True):
                p -= lr * g
            nit += 1
        losses[epoch] = loss.forward(model.forward(X), T)
    return TrainResult(fun=float(losses[-1]), losses=losses, nit=nit)


@documented_in("chain_rule_backpropagation", "backpropagation-in-matrix-form")
def two_moons(n: int = 200, *, noise: float = 0.1, rng: Seed = None) -> tuple[Array, NDArray[Any]]:
    """Two interleaving half circles in the plane, with Gaussian noise, and their labels 0/1.

    Parameters
    ----------
    n : int, optional
        The number of points, at least 2 (half of them, rounded down, in the first moon).
    noise : float, optional
        The standard deviation of the Gaussian noise added to each coordinate, ``>= 0``.
    rng : None, int or numpy.random.Generator, optional
        Source of the noise, as :func:`numpy.random.default_rng` accepts it
        (``None``: fresh entropy).

    Returns
    -------
    X : ndarray, shape (n, 2)
        The points.
    y : ndarray of int, shape (n,)
        The labels.

    Examples
    --------
    >>> X, y = two_moons(6, noise=0.0, rng=0)
    >>> X.shape, y.tolist()
    ((6, 2), [0, 0, 0, 1, 1, 1])
    """
    n = check_int(n, "n", minimum=2)
    noise = check_nonnegative(noise, "noise")
    generator = check_rng(rng)
    n0 = n // 2
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n - n0)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower]) + noise * generator.normal(size=(n, 2))
    return X, np.repeat([0, 1], [n0, n - n0])
