"""The chapter's small network, eq-small-net, differentiated with PyTorch."""

import torch
from torch.func import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp

x_in = torch.tensor([1.0, -2.0], dtype=torch.float64)
y_true = 0.5


def small_net_loss(theta):  # theta = (W1 row by row, b1, w2, b2), as in the chapter
    W1, b1, w2, b2 = theta[:4].reshape(2, 2), theta[4:6], theta[6:8], theta[8]
    return (w2 @ torch.tanh(W1 @ x_in + b1) + b2 - y_true) ** 2


def hidden(theta):  # R^9 -> R^2: the hidden activations a = tanh(W1 x + b1)
    W1, b1 = theta[:4].reshape(2, 2), theta[4:6]
    return torch.tanh(W1 @ x_in + b1)


f64 = torch.float64
theta = torch.tensor([0.3, -0.1, 0.2, 0.4, 0.05, -0.1, 0.7, -0.6, 0.2], dtype=f64)
v = torch.linspace(-1.0, 1.0, 9, dtype=f64)  # a direction in parameter space
u = torch.tensor([1.0, -2.0], dtype=f64)  # a cotangent for the hidden activations

gradient, value = grad_and_value(small_net_loss)(theta)  # note the order
gradient_only = grad(small_net_loss)(theta)
H = hessian(small_net_loss)(theta)
_, Hv = jvp(grad(small_net_loss), (theta,), (v,))  # forward over reverse
J_rev, J_fwd = jacrev(hidden)(theta), jacfwd(hidden)(theta)
_, Jv = jvp(hidden, (theta,), (v,))
_, pullback = vjp(hidden, theta)
(uJ,) = pullback(u)  # a tuple: one cotangent per argument

# The tape-based API, torch.autograd: record, then sweep back into .grad
leaf = theta.clone().requires_grad_(True)
small_net_loss(leaf).backward()
gradient_tape = leaf.grad
