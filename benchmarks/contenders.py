"""The contenders timed for each case, side by side, and the check that their results agree.

- `impl`: the implementation under test (`--impl`, default `impl`): forward builds the graph as in
  training; forward+backward seeds `y.grad = Variable(g)` with a random upstream gradient and runs
  `y.backward()`;
- `numpy`: the hand-written floor (benchmarks/floors.py), no graph;
- `jax-eager`: `jax.vjp` and the VJP call, no jit;
- `jax-jit`: one jitted function returning the output and the gradients (so XLA keeps the work),
  compiled ahead of timing, timed in steady state with `block_until_ready`;
- `autograd`: HIPS autograd's `make_vjp` on the same arithmetic in `autograd.numpy`.

Every run executes each contender once before timing and compares its result with the floor's
(the floor's own forward is compared with the catalogue's NumPy oracle), so the fast CI mode,
where pytest-benchmark times nothing, still checks that everything runs and agrees.
"""
import dataclasses
import math
import time
from typing import Optional

import numpy as np

from benchmarks.floors import FLOORS
from benchmarks.grid import elements
from conformance.catalogue import BY_NAME, seed_of

CONTENDERS = ("impl", "numpy", "jax-eager", "jax-jit", "autograd")
MODES = ("fwd", "fwdbwd")
# (contender, mode) pairs timed per case: forward only for impl and its floor, forward+backward
# for everyone.
PAIRS = (("impl", "fwd"), ("numpy", "fwd"),
         ("impl", "fwdbwd"), ("numpy", "fwdbwd"), ("jax-eager", "fwdbwd"), ("jax-jit", "fwdbwd"),
         ("autograd", "fwdbwd"))
MODE_TEXT = {"fwd": "forward", "fwdbwd": "forward+backward"}

# Normwise agreement tolerance: max |got - want| <= TOL * max(1, max |want|). A sanity check that
# each contender computes the same thing (the conformance suite checks the values properly).
TOLERANCE = {"float32": 2e-3, "float64": 1e-8}


# ----------------------------------------------------------------------------- per-case data

@dataclasses.dataclass
class CaseData:
    """The inputs, upstream gradient and floor results of one case, shared by its contenders."""
    case: object
    inputs: list
    cotangent: np.ndarray
    floor_y: np.ndarray
    floor_grads: list
    _jax_args: Optional[tuple] = None

    @property
    def op(self):
        return BY_NAME[self.case.op]

    @property
    def out_shape(self):
        return np.shape(self.floor_y)

    @property
    def elements(self):
        return elements(self.case.shapes, self.out_shape)

    def bytes_touched(self, mode):
        """Bytes of every array at the op's interface: the inputs and the output, and for
        forward+backward also the upstream gradient and each input's gradient. A broadcast view
        (the gradient of sum, the output of broadcast_to) counts as if written."""
        itemsize = np.dtype(self.case.dtype).itemsize
        inputs = sum(math.prod(s) for s in self.case.shapes)
        output = math.prod(self.out_shape)
        return itemsize * (inputs + output) * (2 if mode == "fwdbwd" else 1)

    def jax_args(self):
        if self._jax_args is None:
            import jax.numpy as jnp
            self._jax_args = (tuple(jnp.asarray(x) for x in self.inputs), jnp.asarray(self.cotangent))
        return self._jax_args


_CACHE = {}


def case_data(case, seed=0):
    """Draw the case's inputs with the catalogue's draw (its seed derives from the case id) and
    run the floor once; the most recent case is kept, as contenders of one case run in a row."""
    key = (case.id, seed)
    if key not in _CACHE:
        _CACHE.clear()
        op = BY_NAME[case.op]
        rng = np.random.default_rng(seed_of(case.id, "benchmark", seed))
        inputs = op.draw(rng, case.shapes, case.dtype)
        floor = FLOORS[case.op]
        with np.errstate(all="ignore"):
            floor_y = np.asarray(floor.forward(*inputs, **case.kwargs))
        cotangent = rng.standard_normal(floor_y.shape).astype(case.dtype)
        with np.errstate(all="ignore"):
            y, grads = floor.forward_backward(inputs, cotangent, **case.kwargs)
        _CACHE[key] = CaseData(case, inputs, cotangent, np.asarray(y), [np.asarray(g) for g in grads])
    return _CACHE[key]


# ----------------------------------------------------------------------------- autograd versions

def _ag():
    import autograd.numpy as anp
    return anp


def _ag_logsumexp(x, axis=None, keepdims=False):
    from autograd.scipy.special import logsumexp
    return logsumexp(x, axis=axis, keepdims=keepdims)


def _ag_broadcast_to(x, shape):
    anp = _ag()
    # autograd's broadcast_to cannot add leading dims ("Can't handle extra leading dims").
    lead = len(shape) - x.ndim
    return anp.broadcast_to(anp.reshape(x, (1,) * lead + x.shape) if lead else x, shape)


def _ag_sum_to(x, shape):
    shape = tuple(shape)
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1)
    return _ag().reshape(_ag().sum(x, axis=axes, keepdims=True), shape)


def _ag_softmax(x, axis=-1):
    return _ag().exp(x - _ag_logsumexp(x, axis=axis, keepdims=True))


AUTOGRAD = {
    "sum": lambda x, **kw: _ag().sum(x, **kw),
    "mean": lambda x, **kw: _ag().mean(x, **kw),
    "max": lambda x, **kw: _ag().max(x, **kw),
    "min": lambda x, **kw: _ag().min(x, **kw),
    "prod": lambda x, **kw: _ag().prod(x, **kw),
    "logsumexp": _ag_logsumexp,
    "exp": lambda x: _ag().exp(x),
    "mul": lambda a, b: a * b,
    "add": lambda a, b: a + b,
    "broadcast_to": _ag_broadcast_to,
    "sum_to": _ag_sum_to,
    "matmul": lambda a, b: _ag().matmul(a, b),
    "softmax": _ag_softmax,
}

# Where a contender is known to compute something else than the floor, by design of that library:
# (op, contender) -> (reason, mask of gradient elements to leave out of the comparison).
KNOWN_DIFFERENCES = {
    ("prod", "autograd"): ("autograd's prod gradient is prod/x, NaN or inf where x == 0",
                           lambda inputs: [x == 0 for x in inputs]),
}


# ----------------------------------------------------------------------------- runners

def make_runner(contender, mode, data, impl_module):
    """A no-argument callable that runs one contender on the case once, and what it costs to
    prepare it (`compile_s` for jax-jit)."""
    case, op = data.case, data.op
    kw = case.kwargs
    info = {}
    if contender == "impl":
        Variable, F = impl_module.Variable, impl_module.functions
        inputs, g = data.inputs, data.cotangent
        positions = op.grad_positions(len(inputs))
        if mode == "fwd":
            def run():
                return op.impl(F, *[Variable(x) for x in inputs], **kw).data
        else:
            def run():
                xs = [Variable(x) for x in inputs]
                y = op.impl(F, *xs, **kw)
                y.grad = Variable(g)
                y.backward()
                return y.data, [xs[i].grad.data for i in positions]
        return run, info
    if contender == "numpy":
        floor = FLOORS[case.op]
        inputs, g = data.inputs, data.cotangent
        if mode == "fwd":
            return (lambda: floor.forward(*inputs, **kw)), info
        return (lambda: floor.forward_backward(inputs, g, **kw)), info
    if contender in ("jax-eager", "jax-jit"):
        if mode != "fwdbwd":
            raise ValueError(f"{contender} is timed forward+backward only")
        import jax
        xs, g = data.jax_args()
        positions = op.grad_positions(len(xs))
        if positions != tuple(range(len(xs))):
            raise NotImplementedError("the JAX contenders differentiate every input")

        def f(*args):
            return op.reference(*args, **kw)

        def forward_vjp(*args):
            *primals, cotangent = args
            y, vjp = jax.vjp(f, *primals)
            return y, list(vjp(cotangent))

        if contender == "jax-eager":
            return (lambda: jax.block_until_ready(forward_vjp(*xs, g))), info
        start = time.perf_counter()
        compiled = jax.jit(forward_vjp).lower(*xs, g).compile()
        info["compile_s"] = time.perf_counter() - start
        return (lambda: jax.block_until_ready(compiled(*xs, g))), info
    if contender == "autograd":
        if mode != "fwdbwd":
            raise ValueError("autograd is timed forward+backward only")
        from autograd import make_vjp
        fn = AUTOGRAD[case.op]
        inputs, g = data.inputs, data.cotangent
        argnum = tuple(range(len(inputs))) if len(inputs) > 1 else 0
        vjp_maker = make_vjp(lambda *args: fn(*args, **kw), argnum=argnum)

        def run():
            vjp, y = vjp_maker(*inputs)
            grads = vjp(g)
            return y, list(grads) if isinstance(grads, tuple) else [grads]
        return run, info
    raise ValueError(f"unknown contender {contender!r}; one of {', '.join(CONTENDERS)}")


# ----------------------------------------------------------------------------- agreement

class Disagreement(AssertionError):
    pass


def _compare(what, got, want, dtype, ignore=None):
    got = np.asarray(got)
    want = np.asarray(want)
    if got.shape != want.shape:
        raise Disagreement(f"{what}: shape {got.shape}, the floor's is {want.shape}")
    if want.size == 0:
        return
    g = got.astype(np.float64)
    w = want.astype(np.float64)
    keep = np.ones(w.shape, bool) if ignore is None else ~np.broadcast_to(ignore, w.shape)
    special = ~np.isfinite(w)
    if np.any(keep & special & ~((np.isnan(g) & np.isnan(w)) | (g == w))):
        raise Disagreement(f"{what}: NaN/inf at other places than the floor's")
    finite = keep & ~special
    if not finite.any():
        return
    err = float(np.max(np.abs(g[finite] - w[finite])))
    scale = max(1.0, float(np.max(np.abs(w[finite]))))
    if not err <= TOLERANCE[dtype] * scale:
        raise Disagreement(f"{what}: max abs difference {err:.3g} from the floor's, more than "
                           f"{TOLERANCE[dtype]:g} * {scale:.3g}")


def check(contender, mode, data, result):
    """Raise Disagreement unless `result` of `contender` agrees with the floor (and, for the
    floor itself, the floor's forward with the catalogue's NumPy oracle)."""
    case = data.case
    where = f"{case.id} {contender} {MODE_TEXT[mode]}"
    y, grads = (result, None) if mode == "fwd" else result
    if contender == "numpy":
        with np.errstate(all="ignore"):
            oracle = np.asarray(data.op.numpy(*data.inputs, **case.kwargs))
        _compare(f"{where}: floor forward vs the catalogue's NumPy oracle", y, oracle, case.dtype)
        if np.asarray(y).dtype != oracle.dtype:
            raise Disagreement(f"{where}: floor forward dtype {np.asarray(y).dtype}, NumPy's is {oracle.dtype}")
        return
    _compare(f"{where}: output", y, data.floor_y, case.dtype)
    if contender == "impl" and np.asarray(y).dtype != data.floor_y.dtype:
        raise Disagreement(f"{where}: output dtype {np.asarray(y).dtype}, the floor's is {data.floor_y.dtype}")
    if grads is None:
        return
    if len(grads) != len(data.floor_grads):
        raise Disagreement(f"{where}: {len(grads)} gradients, expected {len(data.floor_grads)}")
    known = KNOWN_DIFFERENCES.get((case.op, contender))
    masks = known[1](data.inputs) if known else [None] * len(grads)
    for i, (got, want, mask) in enumerate(zip(grads, data.floor_grads, masks)):
        _compare(f"{where}: gradient of input {i}", got, want, case.dtype, mask)
        if contender == "impl" and np.asarray(got).dtype != data.inputs[i].dtype:
            raise Disagreement(f"{where}: gradient {i} has dtype {np.asarray(got).dtype}, the "
                               f"input's is {data.inputs[i].dtype}")


# ----------------------------------------------------------------------------- one benchmark

def run_case(benchmark, case, contender, mode, *, impl_module, impl_name, jax_info, grid,
             suite="grid", group=None, seed=0):
    """Prepare, run once and check, then time (`benchmark(...)`) one contender on one case, with
    everything the report needs in `benchmark.extra_info`."""
    data = case_data(case, seed)
    benchmark.group = group or case.id
    run, info = make_runner(contender, mode, data, impl_module)
    start = time.perf_counter()
    with np.errstate(all="ignore"):
        first = run()
    first_call_s = time.perf_counter() - start
    check(contender, mode, data, _to_numpy(first))
    benchmark.extra_info.update({
        "suite": suite,
        "op": case.op,
        "case": case.id,
        "contender": contender,
        "mode": mode,
        "dtype": case.dtype,
        "shapes": [list(s) for s in case.shapes],
        "params": {k: repr(v) for k, v in case.params},
        "elements": data.elements,
        "bytes": data.bytes_touched(mode),
        "impl": impl_name,
        "grid": grid,
        "jax_backend": jax_info.get("backend"),
        "jax_device": jax_info.get("device"),
        "jax_version": jax_info.get("jax_version"),
        "first_call_s": first_call_s,
        **info,
    })
    with np.errstate(all="ignore"):
        benchmark(run)


def _to_numpy(result):
    if isinstance(result, tuple):
        y, grads = result
        return np.asarray(y), [np.asarray(g) for g in grads]
    return np.asarray(result)
