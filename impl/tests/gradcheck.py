"""Reference derivatives for the tests, computed without `impl`'s backward: central differences
in float64 around the forward pass."""
import numpy as np

from impl import Variable, no_grad


def numeric_grad(f, *arrays, eps=1e-6):
    """The gradient of the scalar `f(*arrays)` with respect to each array, by central differences
    in float64 (one list entry per array)."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + eps
            up = f(*arrays)
            a[i] = old - eps
            down = f(*arrays)
            a[i] = old
            g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def check_backward(fn, *arrays, seed=0, rtol=1e-5, atol=1e-6):
    """Run `fn` on Variables of `arrays`, backpropagate a random (non-uniform) upstream gradient
    `w` and compare each input's `.grad` with the numeric gradient of sum(fn(...) * w).

    Returns the output Variable and the input Variables, for further checks."""
    xs = [Variable(np.array(a, dtype=np.float64)) for a in arrays]
    y = fn(*xs)
    w = np.random.default_rng(seed).standard_normal(y.shape)
    y.grad = Variable(w)
    y.backward()

    def loss(*values):
        with no_grad():
            return float(np.sum(fn(*[Variable(v) for v in values]).data * w))

    expected = numeric_grad(loss, *arrays)
    for i, (x, g) in enumerate(zip(xs, expected)):
        assert x.grad is not None, f"input {i} got no gradient"
        assert x.grad.shape == x.shape, f"input {i}: grad shape {x.grad.shape} != {x.shape}"
        np.testing.assert_allclose(x.grad.data, g, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")
    return y, xs
