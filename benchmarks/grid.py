"""The benchmark grid: a representative set of cases per op (not the conformance domain).

Cases are `conformance.catalogue.Case` records, so each has the conformance suite's readable id
(`sum[float64-(2,3,4)-axis=1-keepdims=False]`), `.shapes`, `.dtype` and `.kwargs`, and the op's
impl call, JAX reference and input draw come from `conformance.catalogue.BY_NAME`.

Three grids:
- `tiny`: a few small cases per op; what CI runs (fast, untimed) to check that every contender
  executes and agrees with the NumPy floor;
- `default`: sizes 24 to 10^6 elements, each axis kind, keepdims both ways, float32 and float64;
  a few minutes on 2 cores;
- `large`: every variant at every size, up to 10^7 elements (and 1000x1000 matmuls).
"""
import math

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from conformance.catalogue import Case

GRIDS = ("tiny", "default", "large")
GRID_ENV = "DEZERO_BENCH_GRID"

# Nominal size -> the 3-D shape used for reductions, elementwise ops and softmax.
SHAPES = {
    24: (2, 3, 4),
    1_000: (10, 10, 10),
    100_000: (20, 50, 100),
    1_000_000: (100, 100, 100),
    10_000_000: (200, 250, 200),
}
# broadcast_to source -> target (and sum_to target <- source), by output size.
BROADCASTS = {
    24: ((3, 1), (2, 3, 4)),
    1_000: ((10, 1, 10), (10, 10, 10)),
    100_000: ((100,), (1_000, 100)),
    1_000_000: ((1, 1_000), (1_000, 1_000)),
    10_000_000: ((1_000,), (10_000, 1_000)),
}
# matmul operand shapes, by the size of the larger operand.
MATMULS = {
    12: ((2, 3), (3, 4)),
    1_000: ((32, 32), (32, 32)),
    100_000: ((316, 316), (316, 316)),
    1_000_000: ((1_000, 1_000), (1_000, 1_000)),
}
# Binary elementwise with broadcasting: the second operand's shape, by size.
BINARY_BROADCAST = {24: (3, 1), 1_000_000: (100, 1), 10_000_000: (250, 1)}

# Reduction variants (dtype, axis, keepdims): every axis kind and both keepdims and dtypes.
V_NONE = ("float64", None, False)
V_INT = ("float64", 1, False)          # one axis (the per-op overhead headline's spelling)
V_TUPLE = ("float32", (0, 2), True)    # a sorted tuple
V_UNSORTED = ("float32", (2, -3), False)  # unsorted, negative: canonical (0, 2)
VARIANTS = (V_NONE, V_INT, V_TUPLE, V_UNSORTED)

REDUCTIONS = ("sum", "mean", "max", "min", "prod", "logsumexp")
REDUCTION_PLAN = {
    "tiny": {24: (V_INT, ("float32", (2, -3), True))},
    "default": {24: VARIANTS, 1_000: (V_NONE, V_UNSORTED), 100_000: (V_INT, V_TUPLE),
                1_000_000: (V_NONE, V_UNSORTED)},
    "large": {n: VARIANTS for n in SHAPES},
}
# (size, dtype) plans for the ops whose cases are a size ladder.
LADDER = {
    "tiny": ((24, "float64"),),
    "default": ((24, "float64"), (1_000, "float64"), (100_000, "float64"),
                (1_000_000, "float64"), (1_000_000, "float32")),
    "large": tuple((n, d) for n in SHAPES for d in ("float64", "float32")),
}
MATMUL_PLAN = {
    "tiny": ((12, "float32"),),
    "default": ((12, "float64"), (1_000, "float64"), (100_000, "float64"), (100_000, "float32")),
    "large": tuple((n, d) for n in MATMULS for d in ("float64", "float32")),
}
BROADCAST_PLAN = {
    "tiny": ((24, "float32"),),
    "default": ((1_000_000, "float32"),),
    "large": ((1_000_000, "float32"), (10_000_000, "float64")),
}
SOFTMAX_EXTRA = {  # softmax over other axes: (size, dtype, axis)
    "tiny": ((24, "float32", (0, 2)),),
    "default": ((100_000, "float32", 0),),
    "large": ((1_000_000, "float32", (0, 2)), (1_000_000, "float64", 0)),
}

OPS = REDUCTIONS + ("exp", "mul", "add", "broadcast_to", "sum_to", "matmul", "softmax")


def reduction_case(op, shape, dtype, axis, keepdims):
    params = (("axis", axis), ("keepdims", keepdims))
    return Case(op, dtype, (shape,), params, params)


def _case(op, dtype, shapes, params=()):
    return Case(op, dtype, tuple(shapes), tuple(params), tuple(params))


def cases(grid):
    """Every case of `grid` ("tiny", "default" or "large"), ops in OPS order."""
    if grid not in GRIDS:
        raise ValueError(f"unknown benchmark grid {grid!r}; choose one of {', '.join(GRIDS)}")
    out = []
    for op in REDUCTIONS:
        for size, variants in REDUCTION_PLAN[grid].items():
            for dtype, axis, keepdims in variants:
                out.append(reduction_case(op, SHAPES[size], dtype, axis, keepdims))
    ladder = LADDER[grid]
    out += [_case("exp", d, (SHAPES[n],)) for n, d in ladder]
    for op in ("mul", "add"):
        out += [_case(op, d, (SHAPES[n], SHAPES[n])) for n, d in ladder]
        out += [_case(op, d, (SHAPES[n], BINARY_BROADCAST[n])) for n, d in BROADCAST_PLAN[grid]]
    out += [_case("broadcast_to", d, (BROADCASTS[n][0],), (("shape", BROADCASTS[n][1]),))
            for n, d in ladder]
    out += [_case("sum_to", d, (BROADCASTS[n][1],), (("shape", BROADCASTS[n][0]),))
            for n, d in ladder]
    out += [_case("matmul", d, MATMULS[n]) for n, d in MATMUL_PLAN[grid]]
    out += [_case("softmax", d, (SHAPES[n],), (("axis", -1),)) for n, d in ladder]
    out += [_case("softmax", d, (SHAPES[n],), (("axis", axis),)) for n, d, axis in SOFTMAX_EXTRA[grid]]
    # One spelling per case id: a plan may name a case twice (e.g. float64 and float32 ladders).
    return list(dict.fromkeys(out))


def elements(shapes, out_shape):
    """The case's size on the plots' x axis: its largest array, input or output."""
    return max([math.prod(s) for s in shapes] + [math.prod(out_shape)])


def output_shape(case):
    """The shape of the case's result, without computing it."""
    kw = case.kwargs
    if case.op == "broadcast_to":
        return tuple(kw["shape"])
    if case.op == "sum_to":
        return tuple(kw["shape"])
    if case.op == "matmul":
        a, b = case.shapes
        return tuple(np.broadcast_shapes(a[:-2], b[:-2])) + (a[-2], b[-1])
    if "keepdims" in kw:
        shape = case.shapes[0]
        axis = kw["axis"]
        axes = range(len(shape)) if axis is None else normalize_axis_tuple(axis, len(shape))
        if kw["keepdims"]:
            return tuple(1 if i in axes else n for i, n in enumerate(shape))
        return tuple(n for i, n in enumerate(shape) if i not in axes)
    return tuple(np.broadcast_shapes(*case.shapes))


def case_elements(case):
    return elements(case.shapes, output_shape(case))
