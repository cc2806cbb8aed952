"""The one place where `impl` chooses its array module.

Every array call in the ops goes through `get_array_module(x)`, so that a later backend (CuPy,
`jax.numpy`) only has to be registered here, not threaded through each op.
"""
import numpy as np

array_types = (np.ndarray,)


def get_array_module(x):
    """The array module (`numpy` for now) that owns the array or Variable `x`."""
    return np


def as_array(x, xp=np):
    """Wrap NumPy scalars (what full reductions return) into 0-d arrays; leave arrays alone."""
    if isinstance(x, array_types):
        return x
    return xp.asarray(x)


def scatter_add(xp, target, index, values):
    """`target[index] += values`, accumulating where `index` repeats an element."""
    xp.add.at(target, index, values)
