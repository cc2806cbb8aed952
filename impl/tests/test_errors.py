"""Bad arguments fail early, with the exception NumPy would raise and a message that names what
was given and what is allowed."""
import numpy as np
import pytest

import impl.functions as F
from impl import AxisError, Variable


def x23():
    return Variable(np.arange(6.0).reshape(2, 3))


AXIS_OPS = {
    "sum": F.sum, "mean": F.mean, "average": F.average, "max": F.max, "min": F.min,
    "prod": F.prod, "logsumexp": F.logsumexp, "var": F.var, "std": F.std,
    "softmax": F.softmax, "log_softmax": F.log_softmax,
    "method-sum": lambda x, axis: x.sum(axis=axis),
}
axis_ops = pytest.mark.parametrize("op", list(AXIS_OPS.values()), ids=list(AXIS_OPS))


def test_axis_error_is_numpys_and_a_value_error():
    assert AxisError is np.exceptions.AxisError
    assert issubclass(AxisError, ValueError)


@axis_ops
@pytest.mark.parametrize("axis, bad", [(2, "2"), (-3, "-3"), ((0, 5), "5"), ([1, -7], "-7")],
                         ids=str)
def test_out_of_range_axis(op, axis, bad):
    with pytest.raises(AxisError, match=rf"axis {bad} is out of bounds for array of dimension 2"):
        op(x23(), axis=axis)


@axis_ops
@pytest.mark.parametrize("axis", [(0, 0), (0, -2), (1, -1, 0), [-1, 1]], ids=str)
def test_duplicate_axes(op, axis):
    with pytest.raises(AxisError, match=r"same axis twice for an array of dimension 2") as info:
        op(x23(), axis=axis)
    assert str(tuple(axis)) in str(info.value)


@axis_ops
def test_axis_on_a_0d_array(op):
    with pytest.raises(AxisError, match=r"axis 0 is out of bounds for array of dimension 0"):
        op(Variable(np.array(1.0)), axis=0)


@axis_ops
@pytest.mark.parametrize("axis", [1.5, "1", True, np.True_, ((0, 1),), (0, 1.0), np.float64(1)],
                         ids=repr)
def test_non_integer_axis(op, axis):
    with pytest.raises(TypeError, match="must be an int"):
        op(x23(), axis=axis)


@pytest.mark.parametrize("op", [F.sum, F.mean, F.max, F.min, F.prod, F.logsumexp, F.var],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("keepdims", [1, 0, "yes", None, np.int64(1)], ids=repr)
def test_keepdims_must_be_a_bool(op, keepdims):
    with pytest.raises(TypeError, match="keepdims must be True or False"):
        op(x23(), axis=0, keepdims=keepdims)


def test_keepdims_accepts_numpy_bool():
    assert F.sum(x23(), axis=0, keepdims=np.True_).shape == (1, 3)


@pytest.mark.parametrize("fn, shapes", [
    (lambda x: F.broadcast_to(x, (3, 2)), ("(2, 3)", "(3, 2)")),
    (lambda x: F.broadcast_to(x, (3,)), ("(2, 3)", "(3,)")),
    (lambda x: F.broadcast_to(x, (4, 2, 2)), ("(2, 3)", "(4, 2, 2)")),
    (lambda x: F.sum_to(x, (2,)), ("(2, 3)", "(2,)")),
    (lambda x: F.sum_to(x, (3, 3)), ("(2, 3)", "(3, 3)")),
    (lambda x: F.sum_to(x, (1, 2, 3)), ("(2, 3)", "(1, 2, 3)")),
    (lambda x: F.reshape(x, (4, 2)), ("(2, 3)", "(4, 2)")),
    (lambda x: F.reshape(x, (4, -1)), ("(2, 3)", "(4, -1)")),
    (lambda x: x.reshape(7), ("(2, 3)", "(7,)")),
], ids=["broadcast_to-swap", "broadcast_to-fewer-dims", "broadcast_to-mismatch", "sum_to-leading",
        "sum_to-mismatch", "sum_to-more-dims", "reshape", "reshape-inferred", "reshape-method"])
def test_incompatible_shapes_name_both(fn, shapes):
    with pytest.raises(ValueError) as info:
        fn(x23())
    for shape in shapes:
        assert shape in str(info.value)


@pytest.mark.parametrize("target", [(-1, -1), (-2, 3), (0, -1)], ids=str)
def test_reshape_rejects_bad_targets(target):
    with pytest.raises(ValueError, match="reshape"):
        F.reshape(x23(), target)


@pytest.mark.parametrize("target", [(-1, 3), (2, -3)], ids=str)
def test_broadcast_to_rejects_negative_dims(target):
    with pytest.raises(ValueError, match="negative"):
        F.broadcast_to(x23(), target)


@pytest.mark.parametrize("shape", [(2.0, 3), "23", None], ids=repr)
def test_shape_entries_must_be_ints(shape):
    with pytest.raises(TypeError):
        F.reshape(x23(), shape)


@pytest.mark.parametrize("axes, error", [
    ((0,), ValueError),
    ((0, 1, 2), ValueError),
    ((0, 0), AxisError),
    ((1, -1), AxisError),
    ((0, 2), AxisError),
    ((0, 1.0), TypeError),
    (0, TypeError),
    ("10", TypeError),
], ids=repr)
def test_transpose_rejects_wrong_permutations(axes, error):
    with pytest.raises(error):
        F.transpose(x23(), axes)


def test_transpose_method_rejects_wrong_permutations():
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        x23().transpose(1, 0, 2)
    with pytest.raises(AxisError):
        x23().transpose(1, 1)


@pytest.mark.parametrize("a, b", [((2, 3), (4, 2)), ((3,), (4,)), ((2, 3), (2,)), ((3,), (2, 3)),
                                  ((2, 2, 3), (3, 3, 4)), ((2, 3), ())], ids=str)
def test_matmul_mismatch(a, b):
    with pytest.raises(ValueError, match="matmul") as info:
        F.matmul(Variable(np.ones(a)), Variable(np.ones(b)))
    assert str(a) in str(info.value) and str(b) in str(info.value)


@pytest.mark.parametrize("axis", [1, (0, 1), -1], ids=str)
def test_squeeze_of_a_non_1_dim(axis):
    with pytest.raises(ValueError, match=r"size 3"):
        F.squeeze(Variable(np.ones((1, 3))), axis)


def test_squeeze_out_of_range():
    with pytest.raises(AxisError):
        F.squeeze(Variable(np.ones((1, 3))), 2)


@pytest.mark.parametrize("axis, error", [(3, AxisError), (-4, AxisError), ((0, 0), AxisError),
                                         (1.5, TypeError), ("0", TypeError)], ids=repr)
def test_expand_dims_bad_axis(axis, error):
    with pytest.raises(error):
        F.expand_dims(x23(), axis)


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="x_min"):
        F.clip(x23(), None, None)


@pytest.mark.parametrize("ddof", [True, "1", None], ids=repr)
def test_var_ddof_must_be_a_number(ddof):
    with pytest.raises(TypeError, match="ddof"):
        F.var(x23(), ddof=ddof)


def test_pow_argument_types():
    with pytest.raises(TypeError, match="Variable"):
        F.pow(2.0, 3.0)
    with pytest.raises(TypeError, match="list"):
        x23() ** [1, 2, 3]


def test_operands_of_unsupported_types():
    with pytest.raises(TypeError, match="list"):
        x23() + [1, 2, 3]
    with pytest.raises(TypeError, match="str"):
        F.exp("1")


def test_mean_squared_error_needs_a_batch_axis():
    with pytest.raises(ValueError, match="0-d"):
        F.mean_squared_error(Variable(np.array(1.0)), Variable(np.array(2.0)))


@pytest.mark.parametrize("x_shape, t", [
    ((2, 3), np.array([0, 1, 2])),
    ((2, 3), np.array([0.0, 1.0])),
    ((2, 3), np.array([0, 3])),
    ((2, 3), np.array([-1, 0])),
    ((2, 3, 1), np.array([0, 1])),
], ids=["wrong-length", "float-labels", "label-too-large", "negative-label", "3d-logits"])
def test_softmax_cross_entropy_bad_inputs(x_shape, t):
    with pytest.raises(ValueError, match="softmax_cross_entropy"):
        F.softmax_cross_entropy(Variable(np.zeros(x_shape)), t)


def test_errors_leave_the_inputs_untouched():
    x = x23()
    with pytest.raises(AxisError):
        F.sum(x, axis=5)
    assert x.creator is None and x.grad is None
    F.sum(x).backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))


@pytest.mark.parametrize("flags", [dict(retain_grad=Variable(np.ones(2))), dict(create_graph="yes"),
                                   dict(retain_grad=np.ones(2))], ids=str)
def test_backward_flags_are_bools_and_say_how_to_seed_a_gradient(flags):
    y = F.sum(x23(), axis=0)
    with pytest.raises(TypeError, match=r"must be a bool.*set y\.grad = Variable\(g\)"):
        y.backward(**flags)


def test_backward_flags_accept_numpy_bools_and_ints():
    x = x23()
    F.sum(x).backward(retain_grad=np.True_, create_graph=0)
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))
