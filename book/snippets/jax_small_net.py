"""The chapter's small network, eq-small-net, differentiated with JAX."""

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)  # float64, as in calcml

x_in = jnp.array([1.0, -2.0])
y_true = 0.5


def small_net_loss(theta):  # theta = (W1 row by row, b1, w2, b2), as in the chapter
    W1, b1, w2, b2 = theta[:4].reshape(2, 2), theta[4:6], theta[6:8], theta[8]
    return (w2 @ jnp.tanh(W1 @ x_in + b1) + b2 - y_true) ** 2


def hidden(theta):  # R^9 -> R^2: the hidden activations a = tanh(W1 x + b1)
    W1, b1 = theta[:4].reshape(2, 2), theta[4:6]
    return jnp.tanh(W1 @ x_in + b1)


theta = jnp.array([0.3, -0.1, 0.2, 0.4, 0.05, -0.1, 0.7, -0.6, 0.2])
v = jnp.linspace(-1.0, 1.0, 9)  # a direction in parameter space
u = jnp.array([1.0, -2.0])  # a cotangent for the hidden activations

value, gradient = jax.value_and_grad(small_net_loss)(theta)
gradient_only = jax.grad(small_net_loss)(theta)
H = jax.hessian(small_net_loss)(theta)
_, Hv = jax.jvp(jax.grad(small_net_loss), (theta,), (v,))  # forward over reverse
J_rev, J_fwd = jax.jacrev(hidden)(theta), jax.jacfwd(hidden)(theta)
_, Jv = jax.jvp(hidden, (theta,), (v,))
_, pullback = jax.vjp(hidden, theta)
(uJ,) = pullback(u)  # a tuple: one cotangent per argument
