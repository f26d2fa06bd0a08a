"""The chapter's small network, eq-small-net, differentiated with calcml.autodiff."""

import numpy as np

from calcml.autodiff import grad, hessian, hvp, jacobian, jvp, tanh, value_and_grad, vjp

x_in = np.array([1.0, -2.0])
y_true = 0.5


def small_net_loss(theta):  # theta = (W1 row by row, b1, w2, b2), as in the chapter
    W1, b1, w2, b2 = theta[:4].reshape(2, 2), theta[4:6], theta[6:8], theta[8]
    return (w2 @ tanh(W1 @ x_in + b1) + b2 - y_true) ** 2


def hidden(theta):  # R^9 -> R^2: the hidden activations a = tanh(W1 x + b1)
    W1, b1 = theta[:4].reshape(2, 2), theta[4:6]
    return tanh(W1 @ x_in + b1)


theta = np.array([0.3, -0.1, 0.2, 0.4, 0.05, -0.1, 0.7, -0.6, 0.2])
v = np.linspace(-1.0, 1.0, 9)  # a direction in parameter space
u = np.array([1.0, -2.0])  # a cotangent for the hidden activations

value, gradient = value_and_grad(small_net_loss)(theta)
gradient_only = grad(small_net_loss)(theta)
H = hessian(small_net_loss)(theta)
Hv = hvp(small_net_loss, theta, v)
J_rev = J_fwd = jacobian(hidden)(theta)  # one engine: reverse sweeps
_, Jv = jvp(hidden, theta, v)
_, pullback = vjp(hidden, theta)
uJ = pullback(u)
