"""The case domains: every shape, axis spelling, permutation, broadcast target, ... an op is
checked over. Pure functions of their arguments, so every process enumerates the same cases."""
import itertools
import math

# Sizes differ per axis so that a misplaced or transposed axis changes the shape; size-1 dims are
# the broadcasting edges, size-0 dims the empty arrays.
REDUCTION_SHAPES = (
    (),
    (5,), (1,), (0,),
    (2, 3), (3, 1), (0, 3),
    (2, 3, 4), (4, 1, 3), (2, 0, 3),
    (2, 3, 4, 5),
)
# Rank 4 with size-1 and size-0 dims: every subset of axes once (canonical spellings only).
REDUCTION_SUBSET_SHAPES = ((3, 1, 2, 1), (2, 0, 1, 3))
ELEMENTWISE_SHAPES = ((), (1,), (5,), (0,), (2, 3), (3, 1), (0, 3), (2, 3, 4), (2, 1, 4, 3))
# Shapes that every rank-3 input can broadcast against (see broadcast_partners).
BROADCAST_BASES = ((2, 3, 4), (3, 0))


def axis_spellings(ndim):
    """Every valid way to write an axis argument for an `ndim`-d array: None, each int in
    [-ndim, ndim), every tuple of distinct axes in every order with each entry written positive
    or negative, and ()."""
    yield None
    yield from range(-ndim, ndim)
    for k in range(1, ndim + 1):
        for axes in itertools.permutations(range(ndim), k):
            for signs in itertools.product((False, True), repeat=k):
                yield tuple(a - ndim if neg else a for a, neg in zip(axes, signs))
    yield ()


def canonical_axis_spellings(ndim):
    """One spelling per distinct set of axes: None, each sorted non-negative tuple, ()."""
    yield None
    for k in range(1, ndim + 1):
        yield from itertools.combinations(range(ndim), k)
    yield ()


def canonical_axes(axis, ndim):
    """The sorted non-negative tuple of axes a valid spelling names."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(a % ndim for a in axis))


def invalid_axis_spellings(ndim):
    """Axis arguments that must be rejected, each with the library whose error is the reference:
    out of range, repeated, aliased (one axis spelled both ways), and not an integer."""
    yield ndim, "jax"
    yield ndim + 1, "jax"  # catches a range check written as `axis != ndim`
    yield -ndim - 1, "jax"
    yield (ndim,), "jax"
    if ndim >= 1:
        yield (0, 0), "jax"
        yield (0, -ndim), "jax"
        yield (ndim - 1, ndim), "jax"
    # JAX reads a string as a named axis (NameError) and NumPy rejects it with TypeError, as the
    # Python convention for a wrong argument type asks; NumPy is the reference for these.
    yield 1.5, "numpy"
    yield "0", "numpy"
    # bool is an int subclass but not an axis: np.sum and JAX reject it, np.mean takes it as 1;
    # the suite expects the TypeError of the Python convention for an argument of a wrong type.
    yield True, "python"


def axis_kind(axis, ndim):
    """The report facet of a spelling: none, int, negative, tuple, unsorted, empty (or invalid)."""
    if axis is None:
        return "none"
    if isinstance(axis, bool) or not isinstance(axis, (int, tuple)):
        return "invalid"
    if isinstance(axis, int):
        return "negative" if axis < 0 else "int"
    if not all(isinstance(a, int) and -ndim <= a < ndim for a in axis):
        return "invalid"
    if axis == ():
        return "empty"
    normalized = [a % ndim for a in axis]
    if normalized != sorted(normalized):
        return "unsorted"
    return "negative" if any(a < 0 for a in axis) else "tuple"


def broadcast_partners(shape):
    """Every shape that broadcasts to `shape` by dropping leading dims and setting dims to 1."""
    for lead in range(len(shape) + 1):
        rest = shape[lead:]
        for ones in itertools.product((False, True), repeat=len(rest)):
            yield tuple(1 if one else n for n, one in zip(rest, ones))


def broadcast_pairs(base):
    """Every ordered pair of shapes derived from `base` (see broadcast_partners): both
    directions of broadcasting and mutual broadcasting, e.g. (2, 1, 4) with (3, 1)."""
    partners = list(broadcast_partners(base))
    return list(itertools.product(partners, partners))


def broadcast_targets(source, new_lead=(2, 5), expand_to=6):
    """Every target `source` broadcasts to by prepending dims from `new_lead` (0, 1 or 2 of
    them) and expanding any subset of its size-1 dims to `expand_to`."""
    ones = [i for i, n in enumerate(source) if n == 1]
    for lead_count in range(len(new_lead) + 1):
        lead = tuple(new_lead[:lead_count])
        for subset in itertools.product((False, True), repeat=len(ones)):
            expanded = list(source)
            for i, on in zip(ones, subset):
                if on:
                    expanded[i] = expand_to
            target = lead + tuple(expanded)
            if target != source:
                yield target


def signed_permutations(ndim):
    """Every permutation of range(ndim), each entry written positive or negative."""
    for perm in itertools.permutations(range(ndim)):
        for signs in itertools.product((False, True), repeat=ndim):
            yield tuple(a - ndim if neg else a for a, neg in zip(perm, signs))


def factorizations(size, max_rank=4):
    """Every shape of rank 1..max_rank with product `size` (dims > 1, plus one inserted 1)."""
    def split(n, rank):
        if rank == 1:
            yield (n,)
            return
        for d in range(2, n + 1):
            if n % d == 0 and n // d > 1:
                for rest in split(n // d, rank - 1):
                    yield (d,) + rest
    shapes = set()
    for rank in range(1, max_rank + 1):
        shapes.update(split(size, rank))
    with_one = {s[:i] + (1,) + s[i:] for s in shapes if len(s) < max_rank for i in range(len(s) + 1)}
    return sorted(shapes | with_one, key=lambda s: (len(s), s))


def reshape_spellings(target):
    """`target` written out, and with each single dim replaced by -1."""
    yield target
    for i in range(len(target)):
        yield target[:i] + (-1,) + target[i + 1:]


def size(shape):
    return math.prod(shape)
