"""One differentiable case per op (and per interesting variant), shared by the numeric-gradient
test and the float32 test. Inputs keep clear of each op's kinks and poles so that central
differences are accurate."""
import numpy as np
import pytest

import impl.functions as F

_rng = np.random.default_rng(20240601)


def normal(*shape):
    return _rng.standard_normal(shape)


def positive(*shape):
    return _rng.uniform(0.5, 2.0, shape)


def distinct(*shape):
    """Values at least 0.1 apart and away from 0 (no ties for max/min, no kink for relu/clip)."""
    n = int(np.prod(shape, dtype=int))
    values = (_rng.permutation(n) - n / 2 + 0.25) * 0.2
    return values.reshape(shape)


LABELS = np.array([2, 0, 1, 2])
MASK = np.array([True, False, True, True])


def _case(name, fn, *arrays):
    return pytest.param(fn, arrays, id=name)


CASES = [
    # elementwise binary, broadcasting in both directions
    _case("add", F.add, normal(2, 3), normal(3)),
    _case("add-reversed", F.add, normal(3), normal(2, 3)),
    _case("sub", F.sub, normal(2, 1), normal(1, 3)),
    _case("mul", F.mul, normal(2, 3), normal(2, 1)),
    _case("mul-0d", F.mul, normal(), normal(2, 3)),
    _case("div", F.div, normal(2, 3), positive(3)),
    _case("div-reversed", F.div, normal(3), positive(2, 3)),
    _case("pow-variable-exponent", F.pow, positive(2, 3), normal(3)),
    _case("pow-variable-exponent-reversed", F.pow, positive(3), normal(2, 3)),
    _case("neg", F.neg, normal(2, 3)),
    _case("pow-const-int", lambda x: F.pow(x, 3), normal(2, 3)),
    _case("pow-const-float", lambda x: x ** 0.5, positive(2, 3)),
    _case("pow-const-array", lambda x: x ** np.array([[1.0, 2.0, 3.0]] * 2, x.dtype), normal(3)),
    _case("rpow-scalar", lambda x: 2.0 ** x, normal(2, 3)),
    # elementwise unary
    _case("exp", F.exp, normal(2, 3)),
    _case("log", F.log, positive(2, 3)),
    _case("sin", F.sin, normal(2, 3)),
    _case("cos", F.cos, normal(2, 3)),
    _case("tanh", F.tanh, normal(2, 3)),
    _case("sqrt", F.sqrt, positive(2, 3)),
    _case("square", F.square, normal(2, 3)),
    _case("sigmoid", F.sigmoid, normal(2, 3)),
    _case("relu", F.relu, distinct(2, 3)),
    _case("clip", lambda x: F.clip(x, -0.2, 0.3), distinct(2, 3)),
    _case("clip-upper-only", lambda x: F.clip(x, None, 0.1), distinct(2, 3)),
    # reductions
    _case("sum", F.sum, normal(2, 3)),
    _case("sum-axis-tuple", lambda x: F.sum(x, axis=(2, -3)), normal(2, 3, 4)),
    _case("sum-keepdims", lambda x: F.sum(x, axis=1, keepdims=True), normal(2, 3)),
    _case("mean", lambda x: F.mean(x, axis=0), normal(2, 3)),
    _case("average", lambda x: F.average(x, axis=(0, 2), keepdims=True), normal(2, 3, 4)),
    _case("max", lambda x: F.max(x, axis=1), distinct(3, 4)),
    _case("max-all", F.max, distinct(3, 4)),
    _case("min", lambda x: F.min(x, axis=0, keepdims=True), distinct(3, 4)),
    _case("prod", lambda x: F.prod(x, axis=1), normal(3, 4)),
    _case("prod-all", F.prod, positive(2, 3)),
    _case("logsumexp", lambda x: F.logsumexp(x, axis=1), normal(3, 4)),
    _case("logsumexp-all", F.logsumexp, normal(3, 4)),
    _case("var", lambda x: F.var(x, axis=0), normal(5, 3)),
    _case("var-ddof", lambda x: F.var(x, axis=(0, 1), ddof=1, keepdims=True), normal(3, 4, 2)),
    _case("std", lambda x: F.std(x, axis=1), normal(3, 5)),
    _case("std-ddof", lambda x: F.std(x, ddof=1), normal(3, 5)),
    # shapes
    _case("broadcast_to", lambda x: F.broadcast_to(x, (4, 2, 3)), normal(2, 1)),
    _case("sum_to", lambda x: F.sum_to(x, (2, 1)), normal(4, 2, 3)),
    _case("reshape", lambda x: F.reshape(x, (3, -1)), normal(2, 3, 2)),
    _case("transpose", lambda x: F.transpose(x, (1, -1, 0)), normal(2, 3, 4)),
    _case("transpose-default", F.transpose, normal(2, 3, 4)),
    _case("expand_dims", lambda x: F.expand_dims(x, (0, -1)), normal(2, 3)),
    _case("squeeze", lambda x: F.squeeze(x, 0), normal(1, 3, 1)),
    _case("flatten", F.flatten, normal(2, 3, 2)),
    _case("get_item-slices", lambda x: x[::-2, 1:], normal(5, 3)),
    _case("get_item-ellipsis-none", lambda x: x[..., None, 1], normal(2, 3, 4)),
    _case("get_item-repeats", lambda x: x[np.array([0, 2, 0, 0]), 1:], normal(3, 4)),
    _case("get_item-mask", lambda x: x[MASK], normal(4, 2)),
    # linear algebra
    _case("matmul-1d-1d", F.matmul, normal(3), normal(3)),
    _case("matmul-1d-2d", F.matmul, normal(3), normal(3, 4)),
    _case("matmul-2d-1d", F.matmul, normal(2, 3), normal(3)),
    _case("matmul-2d-2d", F.matmul, normal(2, 3), normal(3, 4)),
    _case("matmul-batched", F.matmul, normal(5, 2, 3), normal(5, 3, 4)),
    _case("matmul-batch-broadcast", F.matmul, normal(2, 1, 2, 3), normal(3, 3, 4)),
    _case("matmul-1d-batched", F.matmul, normal(3), normal(2, 3, 4)),
    _case("linear", F.linear, normal(4, 3), normal(3, 2), normal(2)),
    _case("linear-no-bias", F.linear, normal(4, 3), normal(3, 2)),
    # normalizers and losses
    _case("softmax", F.softmax, normal(3, 4)),
    _case("softmax-axis0", lambda x: F.softmax(x, axis=0), normal(3, 4)),
    _case("log_softmax", F.log_softmax, normal(3, 4)),
    _case("log_softmax-axis-tuple", lambda x: F.log_softmax(x, axis=(0, 2)), normal(2, 3, 2)),
    _case("mean_squared_error", F.mean_squared_error, normal(4, 3), normal(4, 3)),
    _case("softmax_cross_entropy", lambda x: F.softmax_cross_entropy(x, LABELS), normal(4, 3)),
]
