"""A multilayer perceptron with backpropagation written out by hand.

Every layer has a ``forward`` method that keeps what its derivative needs and a
``backward`` method that takes dL/d(output) and returns dL/d(input), storing
the gradients of its own parameters on the way: the chain rule, one layer at a
time, in matrix form. :func:`sgd` trains a network with plain stochastic
gradient descent. The same gradients come out of :mod:`calcml.autodiff`.

Book: https://calcml.github.io/calculus-for-ml/book/chain_rule_backpropagation.html
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from calcml._validation import as_finite_array, check_choice, check_int, check_positive

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


def _size(n: Any, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"`{name}` must be a positive integer, got {n!r}")
    return int(n)


class Dense:
    """The affine layer ``y = x W + b`` for a batch ``x`` of shape (batch, n_in).

    ``W`` starts as Gaussian noise with standard deviation ``gain / sqrt(n_in)``
    and ``b`` as zeros.

    Examples
    --------
    >>> layer = Dense(3, 2, rng=np.random.default_rng(0))
    >>> y = layer.forward(np.ones((4, 3)))
    >>> dx = layer.backward(np.ones((4, 2)))
    >>> layer.dW.shape, layer.db, dx.shape
    ((3, 2), array([4., 4.]), (4, 3))

    Book: https://calcml.github.io/calculus-for-ml/book/chain_rule_backpropagation.html#backpropagation-in-matrix-form
    """

    def __init__(
        self, n_in: int, n_out: int, *, rng: np.random.Generator, gain: float = 1.0
    ) -> None:
        n_in, n_out = _size(n_in, "n_in"), _size(n_out, "n_out")
        self.W: Array = rng.normal(0.0, check_positive(gain, "gain") / np.sqrt(n_in), (n_in, n_out))
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


class Tanh:
    """The elementwise tanh, whose derivative 1 - tanh^2 reuses the output.

    Examples
    --------
    >>> act = Tanh()
    >>> act.forward(np.array([0.0])), act.backward(np.array([2.0]))
    (array([0.]), array([2.]))

    Book: https://calcml.github.io/calculus-for-ml/book/chain_rule_backpropagation.html#backpropagation-in-matrix-form
    """

    def forward(self, x: Array) -> Array:
        """Return tanh(x) and keep it."""
        self._y: Array = np.tanh(x)
        return self._y

    def backward(self, g: Array) -> Array:
        """Return g * (1 - tanh(x)^2)."""
        return g * (1.0 - self._y * self._y)


class Sigmoid:
    """The elementwise logistic sigmoid; its derivative s (1 - s) is at most 1/4.

    Examples
    --------
    >>> act = Sigmoid()
    >>> act.forward(np.array([0.0])), act.backward(np.array([1.0]))
    (array([0.5]), array([0.25]))

    Book: https://calcml.github.io/calculus-for-ml/book/chain_rule_backpropagation.html#vanishing-and-exploding-gradients
    """

    def forward(self, x: Array) -> Array:
        """Return 1 / (1 + exp(-x)) and keep it."""
        self._y: Array = expit(x)
        return self._y

    def backward(self, g: Array) -> Array:
        """Return g * s * (1 - s)."""
        return g * self._y * (1.0 - self._y)


class ReLU:
    """The rectifier max(x, 0), with derivative 1 where x > 0 and 0 elsewhere.

    Examples
    --------
    >>> act = ReLU()
    >>> act.forward(np.array([-1.0, 2.0])), act.backward(np.array([5.0, 5.0]))
    (array([0., 2.]), array([0., 5.]))

    Book: https://calcml.github.io/calculus-for-ml/book/chain_rule_backpropagation.html#vanishing-and-exploding-gradients
    """

    def forward(self, x: Array) -> Array:
        """Return max(x, 0) and keep the mask x > 0."""
        self._mask = x > 0
        return np.where(self._mask, x, 0.0)

    def backward(self, g: Array) -> Array:
        """Return g where x > 0, else 0."""
        return np.where(self._mask, g, 0.0)


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

    Book: https://calcml.github.io/calculus-for-ml/book/chain_rule_backpropagation.html#backpropagation-step-by-step
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

    Book: https://calcml.github.io/calculus-for-ml/book/chain_rule_backpropagation.html#backpropagation-in-matrix-form
    """

    def forward(self, logits: Array, labels: ArrayLike) -> float:
        """Return mean(-log softmax(logits)[label]) and keep the probabilities."""
        y = np.asarray(labels)
        if y.shape != logits.shape[:1] or y.dtype.kind not in "iu":
            raise ValueError(f"`labels` must be {logits.shape[0]} integer class indices")
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


class MLP:
    """A multilayer perceptron: Dense layers with an activation between them (none at the end).

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, e.g. ``[2, 16, 16, 2]``; each a positive integer.
    activation : {"tanh", "sigmoid", "relu"}
        The hidden nonlinearity.
    seed : int
        Seed of the initialisation (``numpy.random.default_rng``).
    gain : float
        Initial weight scale times ``1 / sqrt(fan_in)``.

    Examples
    --------
    >>> net = MLP([2, 3, 1], seed=0)
    >>> out = net.forward(np.ones((5, 2)))
    >>> grad_in = net.backward(np.ones((5, 1)))
    >>> out.shape, [g.shape for g in net.gradients()]
    ((5, 1), [(2, 3), (3,), (3, 1), (1,)])

    Book: https://calcml.github.io/calculus-for-ml/book/chain_rule_backpropagation.html#backpropagation-in-matrix-form
    """

    def __init__(
        self,
        sizes: Sequence[int],
        *,
        activation: str = "tanh",
        seed: int = 0,
        gain: float = 1.0,
    ) -> None:
        if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence) or len(sizes) < 2:
            raise ValueError(f"`sizes` must list at least two layer widths, got {sizes!r}")
        widths = [_size(n, "sizes") for n in sizes]
        act = _ACTIVATIONS[check_choice(activation, "activation", list(_ACTIVATIONS))]
        rng = np.random.default_rng(check_int(seed, "seed", minimum=0))
        self.dense = [Dense(a, b, rng=rng, gain=gain) for a, b in itertools.pairwise(widths)]
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


@dataclass(frozen=True)
class TrainResult:
    """What :func:`sgd` reports.

    Attributes
    ----------
    losses : ndarray
        The training loss after each epoch (on the whole training set).
    nit : int
        The number of parameter updates made.
    """

    losses: Array
    nit: int


def sgd(
    model: MLP,
    x: ArrayLike,
    target: ArrayLike,
    loss: MSELoss | SoftmaxCrossEntropy,
    *,
    lr: float = 0.1,
    epochs: int = 100,
    batch_size: int | None = None,
    seed: int = 0,
) -> TrainResult:
    """Train ``model`` in place by plain stochastic gradient descent ``theta -= lr * grad``.

    Each epoch shuffles the data (seeded) and makes one update per mini-batch
    (the whole set when ``batch_size`` is None).

    Examples
    --------
    >>> X, y = two_moons(100, seed=0)
    >>> net = MLP([2, 8, 2], seed=0)
    >>> res = sgd(net, X, y, SoftmaxCrossEntropy(), lr=0.5, epochs=50)
    >>> res.nit, bool(res.losses[-1] < res.losses[0])
    (50, True)

    Book: https://calcml.github.io/calculus-for-ml/book/chain_rule_backpropagation.html#backpropagation-in-matrix-form
    """
    if not isinstance(model, MLP):
        raise TypeError(f"`model` must be an MLP, got {type(model).__name__}")
    X, T = as_finite_array(x, "x"), np.asarray(target)
    if len(T) != len(X):
        raise ValueError(f"`x` has {len(X)} rows but `target` has {len(T)}")
    lr = check_positive(lr, "lr")
    epochs = check_int(epochs, "epochs", minimum=1)
    size = len(X) if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
    rng = np.random.default_rng(check_int(seed, "seed", minimum=0))
    losses, nit = np.empty(epochs), 0
    for epoch in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), size):
            idx = order[start : start + size]
            model.loss_and_gradients(X[idx], T[idx], loss)
            for p, g in zip(model.parameters(), model.gradients(), strict=True):
                p -= lr * g
            nit += 1
        losses[epoch] = loss.forward(model.forward(X), T)
    return TrainResult(losses=losses, nit=nit)


def two_moons(n: int = 200, *, noise: float = 0.1, seed: int = 0) -> tuple[Array, NDArray[Any]]:
    """Two interleaving half circles in the plane, with Gaussian noise, and their labels 0/1.

    Examples
    --------
    >>> X, y = two_moons(6, noise=0.0)
    >>> X.shape, y.tolist()
    ((6, 2), [0, 0, 0, 1, 1, 1])

    Book: https://calcml.github.io/calculus-for-ml/book/chain_rule_backpropagation.html#backpropagation-in-matrix-form
    """
    n = check_int(n, "n", minimum=2)
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"`noise` must be finite and non-negative, got {noise!r}")
    rng = np.random.default_rng(check_int(seed, "seed", minimum=0))
    n0 = n // 2
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n - n0)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower]) + noise * rng.normal(size=(n, 2))
    return X, np.repeat([0, 1], [n0, n - n0])
