"""Validation and normalization of `axis` and `shape` arguments, shared by every op."""
import operator

import numpy as np

AxisError = np.exceptions.AxisError


def _as_int(value, what):
    # bool is an int subclass, but `axis=True` is almost always a mistake; NumPy rejects it too.
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be an int, got bool {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"{what} must be an int, got {type(value).__name__} {value!r}") from None


def normalize_axis(axis, ndim):
    """Return the axes named by `axis` as a sorted tuple of non-negative ints.

    `axis` may be None (every axis), an int (negative counts from the end), or a tuple or list of
    ints in any order. Out-of-range axes and two spellings of one axis raise `AxisError`; anything
    that is not an int raises `TypeError`.
    """
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, without the general path
        return (axis % ndim,)
    if isinstance(axis, (tuple, list)):
        given = [_as_int(a, "each entry of axis") for a in axis]
    else:
        given = [_as_int(axis, "axis (None, an int or a tuple of ints)")]
    normalized = []
    for a in given:
        _check_in_range(a, ndim)
        normalized.append(a % ndim)
    unique = sorted(set(normalized))
    if len(unique) != len(normalized):
        raise AxisError(f"axis {tuple(given)!r} names the same axis twice for an array of dimension "
                        f"{ndim} (after negative axes are counted from the end: {tuple(normalized)})")
    return tuple(unique)


def normalize_axis_index(axis, ndim):
    """A single axis (an int, negative allowed) as a non-negative int."""
    a = _as_int(axis, "axis")
    _check_in_range(a, ndim)
    return a % ndim


def _check_in_range(a, ndim):
    if -ndim <= a < ndim:
        return
    allowed = f"allowed: {-ndim} to {ndim - 1}" if ndim else "a 0-d array has no axes"
    raise AxisError(f"axis {a} is out of bounds for array of dimension {ndim} ({allowed})")


def keepdims_shape(shape, axes):
    """The shape a reduction over `axes` has with keepdims=True."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def reduced_size(shape, axes):
    """How many elements each output element of a reduction over `axes` combines."""
    size = 1
    for a in axes:
        size *= shape[a]
    return size


def normalize_shape(shape, what="shape"):
    """A target shape given as an int or a sequence of ints, as a tuple of ints."""
    if isinstance(shape, (tuple, list)):
        return tuple(_as_int(n, f"each entry of {what}") for n in shape)
    return (_as_int(shape, what),)
