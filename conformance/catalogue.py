"""One record per op: how to call it in the implementation under test, its JAX reference, its
NumPy dtype oracle, its case domain, how its inputs are drawn, its tolerance and derivative orders.
The conformance suite and the benchmarks are both driven from `CATALOGUE`.

Adding an op to the suite is one `OpInfo(...)` entry below.
"""
import dataclasses
import functools
import hashlib
import math
from typing import Callable, Optional

import numpy as np

from conformance import domains

FLOATS = ("float32", "float64")
INTS = ("int32",)


# ----------------------------------------------------------------------------- cases

def fmt(value):
    """A compact, space-free rendering used in case ids: (2,-3), None, 0.5, 1:3:2."""
    if isinstance(value, tuple):
        inner = ",".join(fmt(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, str):
        return repr(value)
    return repr(value).replace(" ", "")


@dataclasses.dataclass(frozen=True)
class Case:
    """One checked combination. `params` are passed to the op as written; `canonical` is the
    normalized form every equivalent spelling shares (None for a spelling that must be
    rejected), and so the key of the JAX reference."""
    op: str
    dtype: str
    shapes: tuple
    params: tuple = ()
    canonical: Optional[tuple] = ()
    facets: tuple = ()
    error_authority: Optional[str] = None

    @functools.cached_property
    def label(self):
        parts = [self.dtype, "x".join(fmt(s) for s in self.shapes)]
        parts += [f"{k}={fmt(v)}" for k, v in self.params]
        return "-".join(parts)

    @functools.cached_property
    def id(self):
        return f"{self.op}[{self.label}]"

    @property
    def group(self):
        """Cases whose references are computed together, in one jitted program."""
        return (self.op, self.dtype, self.shapes)

    @property
    def is_valid(self):
        return self.canonical is not None

    @property
    def canonical_identity(self):
        """Equal for every spelling of one canonical case of this op."""
        return (self.dtype, self.shapes, self.canonical)

    @property
    def kwargs(self):
        return dict(self.params)

    @property
    def canonical_kwargs(self):
        return dict(self.canonical)

    @property
    def facet_dict(self):
        return dict(self.facets)


def seed_of(*parts):
    """A 63-bit seed that is a pure function of its parts (never Python's salted hash)."""
    text = "|".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little") >> 1


# ----------------------------------------------------------------------------- input draws

def normal(rng, shape, dtype):
    if np.dtype(dtype).kind in "iu":
        return rng.integers(-4, 5, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def positive(rng, shape, dtype):
    if np.dtype(dtype).kind in "iu":
        return rng.integers(1, 6, size=shape).astype(dtype)
    return rng.uniform(0.5, 2.0, size=shape).astype(dtype)


def with_ties(rng, shape, dtype):
    """Few distinct values, so maxima and minima are often tied."""
    return rng.integers(-2, 3, size=shape).astype(dtype)


def distinct(rng, shape, dtype):
    """All values distinct and well separated: where max/min are differentiable."""
    n = math.prod(shape)
    return (rng.permutation(n).reshape(shape) * 0.5 + rng.uniform(-0.1, 0.1, size=shape)).astype(dtype)


def spread(rng, shape, dtype):
    """Distinct integers (as floats), so every group's deviations from its mean are at least 1/2
    and computed exactly: var/std derivatives divide by the spread and are otherwise
    ill-conditioned when two values of a small group happen to be close."""
    n = math.prod(shape)
    return (rng.permutation(n).reshape(shape) - (n - 1) // 2).astype(dtype)


def near_one_with_zeros(rng, shape, dtype):
    """Magnitudes near 1 (products of 120 stay in range) with about one value in six exactly 0,
    so reduction groups hold no, one and several zeros."""
    if np.dtype(dtype).kind in "iu":
        return rng.integers(-2, 3, size=shape).astype(dtype)
    values = np.asarray(rng.uniform(0.6, 1.4, size=shape) * rng.choice((-1.0, 1.0), size=shape))
    values[rng.random(shape) < 1 / 6] = 0.0
    return values.astype(dtype)


def with_infinities(rng, shape, dtype):
    """near_one_with_zeros with about one value in five replaced by +-inf: groups whose product
    is infinite or NaN (inf * 0), where prod's gradient is the product of the others as IEEE
    arithmetic gives it (the same in any order: the draw cannot overflow). Half the draws have
    no zero at all."""
    values = near_one_with_zeros(rng, shape, dtype)
    if rng.random() < 0.5:
        values = np.where(values == 0, 1, values)
    infinite = rng.random(shape) < 1 / 5
    return np.where(infinite, np.copysign(np.inf, rng.standard_normal(shape)), values).astype(dtype)


def with_exact_zeros(rng, shape, dtype):
    """away_from_zero with about one value in five exactly 0: the kink itself, where relu's
    gradient is 0 in JAX."""
    values = away_from_zero(rng, shape, dtype)
    return np.where(rng.random(shape) < 1 / 5, 0, values).astype(dtype)


def away_from_zero(rng, shape, dtype):
    """Draws for ops with a kink at 0 (relu, clip): no value within 0.05 of the kinks."""
    values = normal(rng, shape, dtype)
    if np.dtype(dtype).kind in "fc":
        values = values + np.sign(values) * 0.05
        values = np.where(np.abs(np.abs(values) - 1.0) < 0.05, values * 1.2, values)
    return values.astype(dtype)


def each(draw):
    """A draw of several inputs, each with `draw`."""
    return lambda rng, shapes, dtype: [draw(rng, s, dtype) for s in shapes]


# ----------------------------------------------------------------------------- op records

_DOMAIN_CACHE = {}


@dataclasses.dataclass(frozen=True)
class OpInfo:
    name: str
    impl: Callable            # (F, *variables, **params) -> Variable of the implementation
    reference: Callable       # (*jax arrays, **params) -> jax array; imports jax lazily
    numpy: Callable           # (*numpy arrays, **params) -> numpy array: result dtype and shape
    domain: Callable          # (op) -> iterable of Case
    draw: Callable = each(normal)        # (rng, shapes, dtype) -> list of input arrays
    needs: tuple = ()    # names the implementation's `functions` must have ("Variable.x": a method)
    order: int = 2                       # 0 forward, 1 + reverse mode, 2 + Hessian-vector product
    tolerance: float = 1.0               # factor on the default dtype/length tolerance
    length: Callable = lambda shapes, kw: 1   # how many terms each output element combines
    numeric_draw: Optional[Callable] = None   # draw for central differences, where differentiable
    differentiable: Optional[tuple] = None    # input positions that get gradients (None: all)
    normwise: bool = False    # derivatives cancel to ~0 out of large terms: compare normwise
    linear: bool = False      # (piecewise) linear in its inputs: every Hessian-vector product is 0
    description: str = ""

    def cases(self):
        # Enumerated once per process: the header, collection, scheduling and the summary all ask.
        if self.name not in _DOMAIN_CACHE:
            _DOMAIN_CACHE[self.name] = tuple(self.domain(self))
        return list(_DOMAIN_CACHE[self.name])

    def grad_positions(self, n_inputs):
        return tuple(range(n_inputs)) if self.differentiable is None else self.differentiable


def _jnp():
    import jax.numpy as jnp
    return jnp


def _jax():
    import jax
    return jax


# ----------------------------------------------------------------------------- domains

def reduction_domain(extra=({},), extra_canonical_only=()):
    """Every shape of REDUCTION_SHAPES with every axis spelling and keepdims both ways, for
    floats and ints; rank-4 shapes with size-1/size-0 dims with one spelling per axis subset;
    invalid axis spellings per rank. `extra` parameters (e.g. ddof) get the full domain,
    `extra_canonical_only` ones only the canonical spellings."""
    def domain(op):
        for dtype in FLOATS + INTS:
            for shape in domains.REDUCTION_SHAPES + domains.REDUCTION_SUBSET_SHAPES:
                ndim = len(shape)
                full = shape in domains.REDUCTION_SHAPES
                spellings = domains.axis_spellings(ndim) if full else domains.canonical_axis_spellings(ndim)
                for axis in spellings:
                    canonical_axis = domains.canonical_axes(axis, ndim)
                    for keepdims in (False, True):
                        for more in extra:
                            yield _reduction_case(op, dtype, shape, axis, canonical_axis, keepdims, more)
                # Every optional argument left out: a wrong default (keepdims=True, ...) shows here.
                yield Case(op.name, dtype, (shape,), (),
                           (("axis", tuple(range(ndim))), ("keepdims", False)) + tuple(extra[0].items()),
                           (("axis", "default"), ("keepdims", "default")))
                for axis in (domains.canonical_axis_spellings(ndim) if extra_canonical_only else ()):
                    for more in extra_canonical_only:
                        yield _reduction_case(op, dtype, shape, axis, domains.canonical_axes(axis, ndim),
                                              False, more)
            for ndim in range(5):
                shape = (2, 3, 4, 5)[:ndim]
                for axis, authority in domains.invalid_axis_spellings(ndim):
                    yield Case(op.name, dtype, (shape,), (("axis", axis), ("keepdims", False)), None,
                               (("axis", "invalid"), ("keepdims", "False")), authority)
    return domain


def _reduction_case(op, dtype, shape, axis, canonical_axis, keepdims, more):
    params = (("axis", axis), ("keepdims", keepdims)) + tuple(more.items())
    canonical = (("axis", canonical_axis), ("keepdims", keepdims)) + tuple(more.items())
    facets = (("axis", domains.axis_kind(axis, len(shape))), ("keepdims", str(keepdims)))
    return Case(op.name, dtype, (shape,), params, canonical, facets)


def reduced_length(shapes, kw):
    shape = shapes[0]
    axes = kw["axis"]
    return math.prod(shape[a] for a in axes) if axes else 1


def unary_domain(dtypes=FLOATS + INTS, params=({},)):
    def domain(op):
        for dtype in dtypes:
            for shape in domains.ELEMENTWISE_SHAPES:
                for p in params:
                    items = tuple(p.items())
                    yield Case(op.name, dtype, (shape,), items, items)
    return domain


def binary_domain(dtypes=FLOATS + INTS):
    def domain(op):
        pairs = dict.fromkeys(p for base in domains.BROADCAST_BASES for p in domains.broadcast_pairs(base))
        for dtype in dtypes:
            for pair in pairs:
                yield Case(op.name, dtype, pair, (), (),
                           (("broadcast", "same" if pair[0] == pair[1] else "broadcast"),))
            # JAX calls a shape mismatch a TypeError; NumPy's ValueError is the convention kept.
            yield Case(op.name, dtype, ((2, 3), (4, 3)), (), None, (("broadcast", "invalid"),), "numpy")
            yield Case(op.name, dtype, ((2, 3), (3, 2)), (), None, (("broadcast", "invalid"),), "numpy")
    return domain


def axis_param_domain(ranks=range(1, 5), dtypes=FLOATS):
    """softmax-style ops: every valid axis spelling (no keepdims), and invalid ones."""
    def domain(op):
        for dtype in dtypes:
            for shape in ((3,), (2, 3), (1, 4), (2, 3, 4), (2, 1, 3, 2)):
                if len(shape) not in ranks:
                    continue
                ndim = len(shape)
                for axis in domains.axis_spellings(ndim):
                    facets = (("axis", domains.axis_kind(axis, ndim)),)
                    yield Case(op.name, dtype, (shape,), (("axis", axis),),
                               (("axis", domains.canonical_axes(axis, ndim)),), facets)
                for axis, authority in domains.invalid_axis_spellings(ndim):
                    yield Case(op.name, dtype, (shape,), (("axis", axis),), None,
                               (("axis", "invalid"),), authority)
                yield Case(op.name, dtype, (shape,), (), (("axis", (ndim - 1,)),),
                           (("axis", "default"),))
    return domain


def _broadcast_to_domain(op):
    sources = ((), (1,), (3,), (3, 1), (1, 4), (2, 1, 4), (1, 1), (0,), (0, 1))
    for dtype in FLOATS + INTS:
        for source in sources:
            for target in domains.broadcast_targets(source):
                yield Case(op.name, dtype, (source,), (("shape", target),), (("shape", target),))
        for source, target in (((3,), (4,)), ((2, 3), (3,)), ((2, 1), (2, 3, 4))):
            yield Case(op.name, dtype, (source,), (("shape", target),), None,
                       (("shape", "invalid"),), "jax")
        # JAX calls a negative dim a TypeError; NumPy's ValueError is the convention kept.
        yield Case(op.name, dtype, ((3,),), (("shape", (-1, 3)),), None, (("shape", "invalid"),), "numpy")


def _sum_to_domain(op):
    # The adjoint of broadcast_to: sum every reachable target back to its source.
    targets = ((), (1,), (3,), (3, 1), (1, 4), (2, 1, 4), (1, 1), (0,), (0, 1))
    for dtype in FLOATS + INTS:
        for shape in targets:
            for source in domains.broadcast_targets(shape):
                yield Case(op.name, dtype, (source,), (("shape", shape),), (("shape", shape),))
        for source, shape in (((2, 3), (4,)), ((3,), (2, 3)), ((2, 3), (2, 2)), ((2, 3), (-1, 3))):
            yield Case(op.name, dtype, (source,), (("shape", shape),), None,
                       (("shape", "invalid"),), "numpy")


def _transpose_domain(op):
    for dtype in FLOATS + INTS:
        for shape in ((), (3,), (2, 3), (2, 3, 4), (2, 3, 1, 4)):
            ndim = len(shape)
            yield Case(op.name, dtype, (shape,), (("axes", None),), (("axes", None),),
                       (("axes", "none"),))
            for perm in domains.signed_permutations(ndim):
                canonical = tuple(a % ndim for a in perm)
                kind = "negative" if any(a < 0 for a in perm) else "permutation"
                yield Case(op.name, dtype, (shape,), (("axes", perm),), (("axes", canonical),),
                           (("axes", kind),))
        yield Case(op.name, dtype, ((2, 3),), (("axes", (0, 2)),), None, (("axes", "invalid"),), "jax")
        # Repeated or missing axes: JAX says TypeError, NumPy ValueError (kept, as for other
        # shape errors).
        for perm in ((0,), (0, 0), (1, -1)):
            yield Case(op.name, dtype, ((2, 3),), (("axes", perm),), None, (("axes", "invalid"),),
                       "numpy")


def _reshape_domain(op):
    for dtype in FLOATS + INTS:
        for source in ((2, 3, 4), (6,), (1, 1)):
            for target in domains.factorizations(domains.size(source)):
                for spelled in domains.reshape_spellings(target):
                    kind = "inferred" if -1 in spelled else "explicit"
                    yield Case(op.name, dtype, (source,), (("shape", spelled),),
                               (("shape", target),), (("shape", kind),))
        for target in ((0,), (3, 0), (0, 5), (-1,)):
            yield Case(op.name, dtype, ((3, 0),), (("shape", target),),
                       (("shape", (0,) if target == (-1,) else target),), (("shape", "empty"),))
        # (0, -1) leaves -1 undetermined: NumPy rejects it (JAX picks a size).
        for source, target in (((2, 3), (4, 2)), ((2, 3), (-1, -1)), ((2, 3), (-2, -3)),
                               ((2, 3), (5, -1)), ((3, 0), (0, -1))):
            yield Case(op.name, dtype, (source,), (("shape", target),), None,
                       (("shape", "invalid"),), "numpy")


# The Variable methods (DeZero's x.reshape(*shape), x.transpose(*axes), x.T, x.sum(axis, keepdims),
# and impl's mean/max/min): each spelling a user may write, on a few shapes; `call` names it.

def _call_reshape(x, shape, call):
    if call == "args":
        return x.reshape(*shape)
    return x.reshape(list(shape) if call == "list" else shape)


def _reshape_method_domain(op):
    for dtype in FLOATS:
        for source, target in (((2, 3, 4), (6, 4)), ((2, 3, 4), (24,)), ((2, 3, 4), (4, -1)),
                               ((2, 3, 4), (2, 3, 4)), ((1, 1), ())):
            resolved = tuple(np.empty(source).reshape(target).shape)
            for call in ("args", "tuple", "list"):
                yield Case(op.name, dtype, (source,), (("shape", target), ("call", call)),
                           (("shape", resolved), ("call", "args")), (("call", call),))
        yield Case(op.name, dtype, ((2, 3),), (("shape", (5, -1)), ("call", "args")), None,
                   (("call", "invalid"),), "numpy")


def _call_transpose(x, axes, call):
    if call == "T":
        return x.T
    if call == "none":
        return x.transpose()
    return x.transpose(*axes) if call == "args" else x.transpose(axes)


def _transpose_method_domain(op):
    for dtype in FLOATS:
        for shape in ((3,), (2, 3), (2, 3, 4)):
            ndim = len(shape)
            reverse = tuple(reversed(range(ndim)))
            for call in ("T", "none"):
                yield Case(op.name, dtype, (shape,), (("axes", None), ("call", call)),
                           (("axes", reverse), ("call", "args")), (("call", call),))
            for perm in {1: ((0,), (-1,)), 2: ((1, 0), (-1, 0)), 3: ((1, 2, 0), (-1, 0, -2))}[ndim]:
                canonical = tuple(a % ndim for a in perm)
                for call in ("args", "tuple"):
                    yield Case(op.name, dtype, (shape,), (("axes", perm), ("call", call)),
                               (("axes", canonical), ("call", "args")), (("call", call),))


def compact_reduction_domain(op):
    """A few shapes with each axis kind, keepdims given both ways or left out, and no argument
    at all: for the method spellings and for variants of an op already covered in full."""
    for dtype in FLOATS:
        for shape in ((3,), (2, 3, 4)):
            ndim = len(shape)
            yield Case(op.name, dtype, (shape,), (),
                       (("axis", tuple(range(ndim))), ("keepdims", False)),
                       (("axis", "default"), ("keepdims", "default")))
            for axis in (None, 0, -1) + (((2, 0), (-1, 1)) if ndim == 3 else ()):
                canonical = domains.canonical_axes(axis, ndim)
                yield Case(op.name, dtype, (shape,), (("axis", axis),),
                           (("axis", canonical), ("keepdims", False)),
                           (("axis", domains.axis_kind(axis, ndim)), ("keepdims", "default")))
                for keepdims in (False, True):
                    yield _reduction_case(op, dtype, shape, axis, canonical, keepdims, {})


def _method_reduction(method, jax_fn, np_fn, **extra):
    return {**_reduction(f"{method}_method", jax_fn, np_fn, domain=compact_reduction_domain,
                         description=f"x.{method}(axis, keepdims): arguments by position, or none",
                         **extra),
            "impl": lambda F, x, **kw: getattr(x, method)(*kw.values()),
            "needs": (f"Variable.{method}",)}


def _astype_domain(op):
    for dtype in FLOATS + INTS:
        for shape in ((), (3,), (2, 3)):
            for target in FLOATS:
                yield Case(op.name, dtype, (shape,), (("dtype", target),), (("dtype", target),),
                           (("dtype", "same" if target == dtype else "cast"),))


def _expand_dims_domain(op):
    for dtype in FLOATS + INTS:
        for shape in ((), (3,), (2, 3), (2, 3, 4)):
            out_ndim = len(shape) + 1
            for axis in range(-out_ndim, out_ndim):
                yield Case(op.name, dtype, (shape,), (("axis", axis),), (("axis", axis % out_ndim),),
                           (("axis", "negative" if axis < 0 else "int"),))
            two = len(shape) + 2
            for axis in domains.axis_spellings(two):
                if isinstance(axis, tuple) and len(axis) == 2:
                    yield Case(op.name, dtype, (shape,), (("axis", axis),),
                               (("axis", domains.canonical_axes(axis, two)),),
                               (("axis", domains.axis_kind(axis, two)),))
        for shape, axis in (((2, 3), 3), ((2, 3), -4), ((2, 3), (0, 0)), ((2, 3), (0, -4))):
            yield Case(op.name, dtype, (shape,), (("axis", axis),), None, (("axis", "invalid"),),
                       "jax")


def _squeeze_domain(op):
    for dtype in FLOATS + INTS:
        # (2, 0, 1): axis=None squeezes the size-1 dim and keeps the empty one.
        for shape in ((1,), (3, 1), (1, 3, 1), (2, 1, 3, 1), (1, 1, 1), (2, 0, 1)):
            ndim = len(shape)
            ones = [i for i, n in enumerate(shape) if n == 1]
            yield Case(op.name, dtype, (shape,), (("axis", None),), (("axis", None),),
                       (("axis", "none"),))
            for axis in domains.axis_spellings(ndim):
                if axis is None or not all(a % ndim in ones for a in
                                           (axis if isinstance(axis, tuple) else (axis,))):
                    continue
                yield Case(op.name, dtype, (shape,), (("axis", axis),),
                           (("axis", domains.canonical_axes(axis, ndim)),),
                           (("axis", domains.axis_kind(axis, ndim)),))
        for shape, axis in (((2, 3), 0), ((3, 1), 0), ((3, 1), 2), ((3, 1), (1, -1))):
            yield Case(op.name, dtype, (shape,), (("axis", axis),), None, (("axis", "invalid"),),
                       "jax")


# Index expressions for get_item, written as Python source over a (4, 5, 6) array; `np` is NumPy.
# Spaces are dropped so that case ids stay free of them.
INDEXES = tuple(source.replace(" ", "") for source in (
    "1", "-1", "1, 2", "-1, -2, 3", "1:3", "::2", "::-1", "1:-1, ::2", "..., 1", "..., ::-2",
    "None", "1, None, 2:4", ":, None, ...", "np.array([0, 2, 2, 3])", "np.array([3, 0, 3]), 1:4",
    ":, np.array([[0, 4], [4, 4]])", "np.array([1, 1]), np.array([0, 0])",
    "np.array([True, False, True, True])", "np.arange(120).reshape(4, 5, 6) % 3 == 0",
    ":, np.array([True, False, False, True, True])", "2:2", "np.array([], dtype=np.intp)",
))
INVALID_INDEXES = ("4", "0,5", "0,0,0,0", "np.array([4])", "1.5")


class _IndexMaker:
    def __getitem__(self, index):
        return index


def make_index(source):
    """The index object an INDEXES entry stands for."""
    return eval(f"_I[{source}]", {"_I": _IndexMaker(), "np": np})


def _get_item_domain(op):
    for dtype in FLOATS + INTS:
        for source in INDEXES:
            yield Case(op.name, dtype, ((4, 5, 6),), (("index", source),), (("index", source),))
        for source in INVALID_INDEXES:
            yield Case(op.name, dtype, ((4, 5, 6),), (("index", source),), None,
                       (("index", "invalid"),), "numpy")


def _index_for_jax(source):
    # jax.jit cannot index with a boolean mask (its result shape depends on the values):
    # the reference uses the equivalent integer arrays.
    index = make_index(source)
    items = index if isinstance(index, tuple) else (index,)
    converted = []
    for item in items:
        if isinstance(item, np.ndarray) and item.dtype == bool:
            converted.extend(np.nonzero(item))
        else:
            converted.append(item)
    return tuple(converted)


MATMUL_SHAPES = (
    ((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((1, 3), (3, 1)),
    ((2, 2, 3), (2, 3, 4)), ((2, 1, 2, 3), (5, 3, 4)), ((3,), (2, 3, 4)), ((2, 2, 3), (3,)),
    ((1, 2, 3), (4, 3, 2)), ((0, 3), (3, 4)), ((2, 0), (0, 4)), ((2, 3), (3, 0)),
)


def _matmul_domain(op):
    for dtype in FLOATS + INTS:
        for pair in MATMUL_SHAPES:
            kind = "1-d" if 1 in (len(pair[0]), len(pair[1])) else (
                "batched" if max(len(pair[0]), len(pair[1])) > 2 else "2-d")
            yield Case(op.name, dtype, pair, (), (), (("operands", kind),))
        for pair in (((2, 3), (4, 5)), ((3,), (4,)), ((2, 2, 3), (3, 3, 4)), ((), (3,))):
            yield Case(op.name, dtype, pair, (), None, (("operands", "invalid"),), "numpy")


def _linear_domain(op):
    for dtype in FLOATS:
        for n, i, o in ((4, 3, 2), (1, 5, 1), (0, 3, 2), (3, 1, 4)):
            yield Case(op.name, dtype, ((n, i), (i, o), (o,)), (), (), (("bias", "yes"),))
            yield Case(op.name, dtype, ((n, i), (i, o)), (), (), (("bias", "no"),))


def _pairs_same_shape_domain(op):
    for dtype in FLOATS:
        for shape in ((5,), (1,), (3, 4), (2, 3, 4), (4, 1, 2)):
            yield Case(op.name, dtype, (shape, shape), (), ())


def _softmax_cross_entropy_domain(op):
    for dtype in FLOATS:
        for n, c in ((4, 3), (1, 5), (6, 1), (5, 10)):
            yield Case(op.name, dtype, ((n, c), (n,)), (), ())


def _sce_draw(rng, shapes, dtype):
    (n, c), _ = shapes
    return [normal(rng, (n, c), dtype), rng.integers(0, c, size=n).astype(np.int64)]


def _pow_variable_draw(rng, shapes, dtype):
    """Positive bases with exponents of either sign, and about one base in six exactly 0 with
    an exponent in [2.5, 4]: where x ** y is twice differentiable in x and JAX takes log(x) as 0
    in the derivative in y."""
    base, exponent = _pow_variable_numeric_draw(rng, shapes, dtype)
    try:
        out_shape = np.broadcast_shapes(*shapes)
    except ValueError:
        return [base, exponent]  # a case that must be rejected
    zero = rng.random(shapes[0]) < 1 / 6
    base = np.where(zero, 0, base).astype(dtype)
    # Every exponent that meets a zero base somewhere in the broadcast is drawn steep.
    meets_zero = _reduce_to(np.broadcast_to(zero, out_shape), shapes[1])
    exponent = np.where(meets_zero, rng.uniform(2.5, 4.0, size=shapes[1]), exponent).astype(dtype)
    return [base, exponent]


def _pow_variable_numeric_draw(rng, shapes, dtype):
    """Central differences step across 0, where x ** y is not real: positive bases only."""
    return [positive(rng, shapes[0], dtype), normal(rng, shapes[1], dtype)]


def _reduce_to(mask, shape):
    """Whether any element of `mask` broadcast onto each element of `shape` (the adjoint of
    broadcasting, for a boolean mask)."""
    lead = mask.ndim - len(shape)
    mask = mask.any(axis=tuple(range(lead))) if lead else mask
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and mask.shape[i] != 1)
    return mask.any(axis=axes, keepdims=True) if axes else mask


def _pow_array_exponent_draw(rng, shapes, dtype):
    """Positive bases; exponents 0, 1, 2, 3, 1/2, -1 and -3/2, as an array."""
    exponents = rng.choice((0.0, 1.0, 2.0, 3.0, 0.5, -1.0, -1.5), size=shapes[1])
    return [positive(rng, shapes[0], dtype), exponents.astype(dtype)]


def _np_logsumexp(x, axis, keepdims):
    shift = np.max(x, axis=axis, keepdims=True) if x.size else np.zeros((), x.dtype)
    shift = np.where(np.isfinite(shift), shift, 0)
    out = np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True)) + shift
    return out if keepdims else np.squeeze(out, axis=axis)


def _np_softmax(x, axis):
    e = np.exp(x - (np.max(x, axis=axis, keepdims=True) if x.size else np.zeros((), x.dtype)))
    return e / np.sum(e, axis=axis, keepdims=True)


def _np_sum_to(x, shape):
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1)
    return np.sum(x, axis=axes, keepdims=True).reshape(shape)


def _jax_sum_to(x, shape):
    jnp = _jnp()
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1)
    return jnp.sum(x, axis=axes, keepdims=True).reshape(shape)


def _check_sum_to(x, shape):
    # sum_to has no NumPy counterpart; NumPy's broadcast rule decides what is valid.
    if any(n < 0 for n in shape):
        raise ValueError(f"negative dim in {shape}")
    np.broadcast_to(np.empty(shape), x.shape)
    return _np_sum_to(x, shape)


def _matmul_highest(a, b):
    import jax
    return _jnp().matmul(a, b, precision=jax.lax.Precision.HIGHEST)


def _reduction(name, jax_fn, np_fn, impl_name=None, **extra):
    impl_name = impl_name or name
    return dict(
        name=name,
        impl=lambda F, x, **kw: getattr(F, impl_name)(x, **kw),
        reference=lambda x, **kw: jax_fn()(x, **kw),
        numpy=lambda x, **kw: np_fn(x, **kw),
        needs=(impl_name,),
        length=reduced_length,
        **extra,
    )


def _unary(name, jax_fn, np_fn, **extra):
    return dict(
        name=name,
        impl=lambda F, x, **kw: getattr(F, name)(x, **kw),
        reference=lambda x, **kw: jax_fn()(x, **kw),
        numpy=lambda x, **kw: np_fn(x, **kw),
        needs=(name,),
        **{"domain": unary_domain(), **extra},
    )


def broadcast_fan_out(shapes, kw=None):
    """How many elements of the broadcast result each input element feeds: the length of the
    sums that bring the gradients back to the inputs' shapes."""
    try:
        out = domains.size(np.broadcast_shapes(*shapes))
    except ValueError:
        return 1  # a case that must be rejected
    return max(1, *(out // max(1, domains.size(s)) for s in shapes))


def _binary(name, operator, **extra):
    return dict(
        name=name,
        impl=lambda F, a, b: operator(a, b),
        reference=lambda a, b: operator(a, b),
        numpy=lambda a, b: operator(a, b),
        **{"domain": binary_domain(), "length": broadcast_fan_out, **extra},
    )


CATALOGUE = [
    # --- reductions: the heart of the suite
    OpInfo(**_reduction("sum", lambda: _jnp().sum, np.sum, domain=reduction_domain(), linear=True,
                        description="F.sum(x, axis, keepdims)")),
    OpInfo(**_reduction("mean", lambda: _jnp().mean, np.mean, domain=reduction_domain(), linear=True,
                        description="F.mean(x, axis, keepdims); NaN over an empty axis")),
    OpInfo(**_reduction("max", lambda: _jnp().max, np.max, domain=reduction_domain(),
                        draw=each(with_ties), numeric_draw=each(distinct), linear=True,
                        description="F.max: tied maxima share the gradient equally, as in JAX")),
    OpInfo(**_reduction("min", lambda: _jnp().min, np.min, domain=reduction_domain(),
                        draw=each(with_ties), numeric_draw=each(distinct), linear=True,
                        description="F.min: tied minima share the gradient equally, as in JAX")),
    OpInfo(**_reduction("prod", lambda: _jnp().prod, np.prod, domain=reduction_domain(),
                        draw=each(near_one_with_zeros), tolerance=2.0,
                        description="F.prod: groups with no, one and several zeros")),
    OpInfo(**_reduction("prod_nonfinite", lambda: _jnp().prod, np.prod, impl_name="prod",
                        domain=compact_reduction_domain, draw=each(with_infinities), tolerance=2.0,
                        # Second derivatives sum products with infinities: inf or NaN depends
                        # on the order of the sum, so only the first order is compared.
                        order=1,
                        description="F.prod over infinities and zeros: NaN and infinite gradients")),
    OpInfo(name="prod_times_float64",
           impl=lambda F, x, **kw: F.prod(x, **kw) * np.float64(1.5),
           reference=lambda x, **kw: _jnp().prod(x, **kw) * np.float64(1.5),
           numpy=lambda x, **kw: np.prod(x, **kw) * np.float64(1.5), domain=compact_reduction_domain,
           draw=each(near_one_with_zeros), needs=("prod",), length=reduced_length, tolerance=2.0,
           description="prod(x) * np.float64(1.5): a float32 prod gets a float64 upstream "
                       "gradient, and x's gradient must come back float32"),
    OpInfo(name="prod_squared", impl=lambda F, x, **kw: F.square(F.prod(x, **kw)),
           reference=lambda x, **kw: _jnp().square(_jnp().prod(x, **kw)),
           numpy=lambda x, **kw: np.square(np.prod(x, **kw)), domain=compact_reduction_domain,
           draw=each(near_one_with_zeros), needs=("prod", "square"), length=reduced_length,
           tolerance=2.0, description="square(prod(x)): prod's upstream gradient depends on x, "
                                      "so its second derivative goes through both arguments"),
    OpInfo(**_reduction("logsumexp", lambda: _jax().nn.logsumexp, _np_logsumexp,
                        domain=reduction_domain(), description="F.logsumexp; -inf over an empty axis")),
    OpInfo(**_reduction("var", lambda: _jnp().var, np.var,
                        domain=reduction_domain(extra=({"ddof": 0},), extra_canonical_only=({"ddof": 1},)),
                        draw=each(spread), normwise=True,
                        description="F.var(x, axis, keepdims, ddof)")),
    OpInfo(**_reduction("std", lambda: _jnp().std, np.std,
                        domain=reduction_domain(extra=({"ddof": 0},), extra_canonical_only=({"ddof": 1},)),
                        draw=each(spread), normwise=True, tolerance=4.0,
                        description="F.std(x, axis, keepdims, ddof)")),
    # --- elementwise
    OpInfo(**_unary("exp", lambda: _jnp().exp, np.exp)),
    OpInfo(**_unary("log", lambda: _jnp().log, np.log, draw=each(positive))),
    OpInfo(**_unary("sin", lambda: _jnp().sin, np.sin)),
    OpInfo(**_unary("cos", lambda: _jnp().cos, np.cos)),
    OpInfo(**_unary("tanh", lambda: _jnp().tanh, np.tanh)),
    OpInfo(**_unary("sqrt", lambda: _jnp().sqrt, np.sqrt, draw=each(positive))),
    OpInfo(**_unary("square", lambda: _jnp().square, np.square)),
    OpInfo(**_unary("sigmoid", lambda: _jax().nn.sigmoid, lambda x: 1 / (1 + np.exp(-x)),
                    tolerance=2.0, domain=unary_domain(dtypes=FLOATS))),  # jax.nn rejects ints
    OpInfo(**_unary("relu", lambda: _jax().nn.relu, lambda x: np.maximum(x, 0),
                    draw=each(with_exact_zeros), numeric_draw=each(away_from_zero), linear=True)),
    OpInfo(name="clip", impl=lambda F, x, x_min, x_max: F.clip(x, x_min, x_max),
           reference=lambda x, x_min, x_max: _jnp().clip(x, x_min, x_max),
           numpy=lambda x, x_min, x_max: np.clip(x, x_min, x_max), draw=each(away_from_zero),
           domain=unary_domain(params=({"x_min": -1.0, "x_max": 1.0}, {"x_min": 0.0, "x_max": None},
                                       {"x_min": None, "x_max": 0.0})),
           needs=("clip",), linear=True),
    OpInfo(name="neg", impl=lambda F, x: -x, reference=lambda x: -x, numpy=lambda x: -x,
           domain=unary_domain(), linear=True),
    OpInfo(name="pow", impl=lambda F, x, c: x ** c, reference=lambda x, c: x ** c,
           numpy=lambda x, c: x ** c, draw=each(positive),
           domain=unary_domain(dtypes=FLOATS, params=({"c": 2}, {"c": 3}, {"c": 0.5}, {"c": -1.5},
                                                     {"c": 0}, {"c": 1})),
           description="x ** c for a constant exponent"),
    OpInfo(name="pow_integer", impl=lambda F, x, c: x ** c, reference=lambda x, c: x ** c,
           numpy=lambda x, c: x ** c, draw=each(near_one_with_zeros),
           domain=unary_domain(dtypes=FLOATS, params=({"c": 0}, {"c": 1}, {"c": 2}, {"c": 3})),
           description="x ** c for an integer c, with exact zeros in the base (x ** 0 has gradient 0 there)"),
    OpInfo(name="pow_array_exponent", impl=lambda F, x, c: x ** c.data, reference=lambda x, c: x ** c,
           numpy=lambda x, c: x ** c, draw=_pow_array_exponent_draw, domain=binary_domain(dtypes=FLOATS),
           differentiable=(0,), length=broadcast_fan_out,
           description="x ** c for a constant array c (not differentiated), broadcast either way"),
    OpInfo(**_binary("add", lambda a, b: a + b, linear=True)),
    OpInfo(**_binary("sub", lambda a, b: a - b, linear=True)),
    OpInfo(**_binary("mul", lambda a, b: a * b)),
    OpInfo(**_binary("div", lambda a, b: a / b, draw=each(positive))),
    OpInfo(**_binary("pow_variable", lambda a, b: a ** b, draw=_pow_variable_draw,
                     numeric_draw=_pow_variable_numeric_draw,
                     domain=binary_domain(dtypes=FLOATS),
                     description="x ** y with both operands differentiable")),
    # --- shapes
    OpInfo(name="broadcast_to", impl=lambda F, x, shape: F.broadcast_to(x, shape),
           reference=lambda x, shape: _jnp().broadcast_to(x, shape),
           numpy=lambda x, shape: np.broadcast_to(x, shape), domain=_broadcast_to_domain,
           needs=("broadcast_to",), linear=True,
           # The backward is sum_to: each input element sums this many cotangent elements.
           length=lambda shapes, kw: broadcast_fan_out((shapes[0], kw["shape"]))),
    OpInfo(name="sum_to", impl=lambda F, x, shape: F.sum_to(x, shape), reference=_jax_sum_to,
           numpy=_check_sum_to, domain=_sum_to_domain, needs=("sum_to",), linear=True,
           length=lambda shapes, kw: broadcast_fan_out((shapes[0], kw["shape"]))),
    OpInfo(name="reshape", impl=lambda F, x, shape: F.reshape(x, shape),
           reference=lambda x, shape: _jnp().reshape(x, shape),
           numpy=lambda x, shape: np.reshape(x, shape), domain=_reshape_domain, needs=("reshape",),
           linear=True),
    OpInfo(name="transpose", impl=lambda F, x, axes: F.transpose(x, axes),
           reference=lambda x, axes: _jnp().transpose(x, axes),
           numpy=lambda x, axes: np.transpose(x, axes), domain=_transpose_domain,
           needs=("transpose",), linear=True),
    OpInfo(name="expand_dims", impl=lambda F, x, axis: F.expand_dims(x, axis),
           reference=lambda x, axis: _jnp().expand_dims(x, axis),
           numpy=lambda x, axis: np.expand_dims(x, axis), domain=_expand_dims_domain,
           needs=("expand_dims",), linear=True),
    OpInfo(name="squeeze", impl=lambda F, x, axis: F.squeeze(x, axis),
           reference=lambda x, axis: _jnp().squeeze(x, axis),
           numpy=lambda x, axis: np.squeeze(x, axis), domain=_squeeze_domain, needs=("squeeze",),
           linear=True),
    OpInfo(name="flatten", impl=lambda F, x: F.flatten(x), reference=lambda x: _jnp().ravel(x),
           numpy=np.ravel, domain=unary_domain(), needs=("flatten",), linear=True,
           description="NumPy's ravel semantics (1-D result)"),
    OpInfo(name="get_item", impl=lambda F, x, index: x[make_index(index)],
           reference=lambda x, index: x[_index_for_jax(index)],
           numpy=lambda x, index: x[make_index(index)], domain=_get_item_domain, linear=True,
           description="x[index]: ints, slices, Ellipsis, None, integer arrays, boolean masks"),
    # --- the Variable methods
    OpInfo(**_method_reduction("sum", lambda: _jnp().sum, np.sum, linear=True)),
    OpInfo(**_method_reduction("mean", lambda: _jnp().mean, np.mean, linear=True)),
    OpInfo(**_method_reduction("max", lambda: _jnp().max, np.max, draw=each(with_ties),
                               numeric_draw=each(distinct), linear=True)),
    OpInfo(**_method_reduction("min", lambda: _jnp().min, np.min, draw=each(with_ties),
                               numeric_draw=each(distinct), linear=True)),
    OpInfo(name="reshape_method", impl=lambda F, x, shape, call: _call_reshape(x, shape, call),
           reference=lambda x, shape, call: _jnp().reshape(x, shape),
           numpy=lambda x, shape, call: np.reshape(x, shape), domain=_reshape_method_domain,
           needs=("Variable.reshape",), linear=True,
           description="x.reshape(*shape), x.reshape(shape) and x.reshape(list)"),
    OpInfo(name="transpose_method", impl=lambda F, x, axes, call: _call_transpose(x, axes, call),
           reference=lambda x, axes, call: _jnp().transpose(x, axes),
           numpy=lambda x, axes, call: np.transpose(x, axes), domain=_transpose_method_domain,
           needs=("Variable.transpose", "Variable.T"), linear=True,
           description="x.T, x.transpose(), x.transpose(*axes) and x.transpose(axes)"),
    # --- dtypes
    OpInfo(name="astype", impl=lambda F, x, dtype: F.astype(x, dtype),
           reference=lambda x, dtype: x.astype(dtype),
           numpy=lambda x, dtype: x.astype(dtype), domain=_astype_domain, needs=("astype",),
           linear=True, description="F.astype(x, dtype): the gradient comes back in x's dtype"),
    OpInfo(**_binary("mul_float64", lambda a, b: a * b.astype("float64"),
                     domain=binary_domain(dtypes=("float32",)), needs=("Variable.astype",),
                     description="a * astype(b, float64) for float32 a and b: a meets a float64 "
                                 "gradient, which must come back float32")),
    # --- linear algebra, normalizers, losses
    OpInfo(name="matmul", impl=lambda F, a, b: F.matmul(a, b), reference=_matmul_highest,
           numpy=np.matmul, domain=_matmul_domain, needs=("matmul",),
           length=lambda shapes, kw: shapes[0][-1],
           description="F.matmul(a, b) with numpy.matmul semantics (1-D and batched operands)"),
    OpInfo(name="linear", impl=lambda F, x, W, b=None: F.linear(x, W, b),
           reference=lambda x, W, b=None: _matmul_highest(x, W) + (0 if b is None else b),
           numpy=lambda x, W, b=None: x @ W + (0 if b is None else b), domain=_linear_domain,
           needs=("linear",), length=lambda shapes, kw: shapes[0][-1]),
    OpInfo(name="softmax", impl=lambda F, x, **kw: F.softmax(x, **kw),
           reference=lambda x, axis: _jax().nn.softmax(x, axis=axis), numpy=_np_softmax,
           domain=axis_param_domain(), needs=("softmax",), tolerance=2.0,
           length=lambda shapes, kw: math.prod(shapes[0][a] for a in kw["axis"]) if kw["axis"] else 1),
    OpInfo(name="log_softmax", impl=lambda F, x, **kw: F.log_softmax(x, **kw),
           reference=lambda x, axis: _jax().nn.log_softmax(x, axis=axis),
           numpy=lambda x, axis: np.log(_np_softmax(x, axis)), domain=axis_param_domain(),
           needs=("log_softmax",), tolerance=2.0,
           length=lambda shapes, kw: math.prod(shapes[0][a] for a in kw["axis"]) if kw["axis"] else 1),
    OpInfo(name="mean_squared_error", impl=lambda F, a, b: F.mean_squared_error(a, b),
           reference=lambda a, b: _jnp().sum((a - b) ** 2) / a.shape[0],
           numpy=lambda a, b: np.sum((a - b) ** 2) / a.shape[0], domain=_pairs_same_shape_domain,
           needs=("mean_squared_error",), length=lambda shapes, kw: domains.size(shapes[0]),
           description="DeZero's definition: sum((a - b)**2) / len(a)"),
    OpInfo(name="softmax_cross_entropy", impl=lambda F, x, t: F.softmax_cross_entropy(x, t),
           reference=lambda x, t: -_jnp().mean(_jnp().take_along_axis(
               _jax().nn.log_softmax(x, axis=1), t[:, None], axis=1)),
           numpy=lambda x, t: -np.mean(np.log(_np_softmax(x, 1))[np.arange(len(t)), t]),
           domain=_softmax_cross_entropy_domain, draw=_sce_draw, differentiable=(0,),
           needs=("softmax_cross_entropy",), length=lambda shapes, kw: domains.size(shapes[0])),
]

BY_NAME = {op.name: op for op in CATALOGUE}
