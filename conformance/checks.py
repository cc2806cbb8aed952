"""Check one case of the implementation under test against its reference: forward value, shape
and dtype; reverse mode with a random cotangent; a Hessian-vector product; central differences;
or, for a case that must be rejected, the exception class."""
import dataclasses
import traceback

import numpy as np

from conformance.catalogue import BY_NAME, fmt, seed_of
from conformance.reference import derivative_order, draw_inputs, expected_error

# How much looser than on CPU a backend's float results may be (its transcendental functions and
# reduction orders differ); matmuls are pinned to full precision in configure_jax.
BACKEND_TOLERANCE = {"cpu": 1.0, "gpu": 4.0, "cuda": 4.0, "rocm": 4.0, "tpu": 16.0}


class Mismatch(AssertionError):
    """A case that does not conform; the message says what, where, and how to reproduce."""


class MissingOp(Exception):
    """The implementation under test lacks a function the op needs (a skip, not a failure)."""


def missing_names(impl, op):
    """What `op` needs that the implementation module lacks: "functions.softmax",
    "Variable.sum", ..."""
    found = {"Variable": impl.Variable, "functions": impl.functions}
    qualified = [n if n.startswith("Variable.") else f"functions.{n}" for n in op.needs]
    return [n for n in qualified if not hasattr(found[n.split(".")[0]], n.split(".", 1)[1])]


@dataclasses.dataclass
class Outcome:
    """What the report records of a passing or failing case."""
    worst_ratio: float = 0.0     # largest |error| / allowed error over every comparison
    worst_abs: float = 0.0
    checks: tuple = ()


def tolerance(dtypes, length, factor, backend):
    """(rtol, atol) for comparing results of `dtypes`, each output element combining `length`
    terms: a few ulps of the least precise dtype, growing with the reduction length."""
    eps = max(np.finfo(d).eps for d in dtypes if np.dtype(d).kind in "fc") if any(
        np.dtype(d).kind in "fc" for d in dtypes) else 0.0
    rtol = factor * BACKEND_TOLERANCE.get(backend, 4.0) * eps * (8 + 2 * length)
    return rtol, rtol


def compare(what, got, want, rtol, atol, scale, outcome, normwise=False):
    """Raise Mismatch unless `got` matches `want` elementwise within atol*scale + rtol*|want|;
    NaNs and infinities must sit at the same places. `normwise` also scales atol by the largest
    expected entry, for results whose entries cancel to ~0 out of much larger terms."""
    got = np.asarray(got)
    want = np.asarray(want)
    if got.shape != want.shape:
        raise Mismatch(f"{what}: shape {got.shape}, expected {want.shape}")
    if want.size == 0:
        return
    if got.dtype.kind not in "fciub" or want.dtype.kind not in "fciub":
        raise Mismatch(f"{what}: dtype {got.dtype} is not numeric (expected like {want.dtype})")
    g = got.astype(np.float64) if got.dtype.kind != "c" else got
    w = want.astype(np.float64) if want.dtype.kind != "c" else want
    if normwise:
        scale = _magnitude(w, np.array(scale))
    allowed = atol * scale + rtol * np.abs(w)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(g - w)
        same_special = (np.isnan(g) & np.isnan(w)) | (np.isinf(w) & (g == w))
        excess = np.where(same_special, 0.0, np.where(np.isfinite(err), err / np.maximum(allowed, 1e-300), np.inf))
    worst = np.unravel_index(int(np.argmax(excess)), excess.shape)
    ratio = float(excess[worst])
    finite_err = err[np.isfinite(err) & ~same_special]
    outcome.worst_ratio = max(outcome.worst_ratio, ratio)
    outcome.worst_abs = max(outcome.worst_abs, float(finite_err.max()) if finite_err.size else 0.0)
    if ratio > 1.0:
        bad = int(np.count_nonzero(excess > 1.0))
        index = tuple(int(i) for i in worst)
        rel = err[worst] / abs(w[worst]) if np.isfinite(w[worst]) and w[worst] != 0 else np.inf
        raise Mismatch(
            f"{what}: {bad} of {want.size} elements outside tolerance\n"
            f"  worst at index {index}: expected {w[worst].item()!r}, got {g[worst].item()!r}, "
            f"abs err {err[worst]:.3g}, rel err {rel:.3g} "
            f"(allowed {allowed[worst]:.3g} = atol {atol:.2g}*{scale:.3g} + rtol {rtol:.2g}*|expected|)")


def _magnitude(*arrays):
    values = [float(np.max(np.abs(a))) for a in arrays
              if a is not None and a.size and a.dtype.kind in "fciu" and np.all(np.isfinite(a))]
    return max([1.0] + values)


def _call(what, fn, *args, **kwargs):
    """Run the implementation; any exception it raises becomes this case's failure."""
    try:
        return fn(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - the implementation's bug is the finding
        tb = "".join(traceback.format_exception(type(error), error, error.__traceback__, limit=-3))
        raise Mismatch(f"{what} raised {type(error).__name__}: {error}\n{tb}") from None


class Checker:
    """Checks cases of one implementation (a module with `Variable` and `functions`)."""

    def __init__(self, impl, store, backend="cpu", impl_name="impl"):
        self.impl = impl
        self.F = impl.functions
        self.store = store
        self.backend = backend
        self.impl_name = impl_name

    def missing(self, op):
        return missing_names(self.impl, op)

    def run(self, case):
        op = BY_NAME[case.op]
        missing = self.missing(op)
        if missing:
            raise MissingOp(f"{self.impl_name} has no {', '.join(missing)}")
        outcome = Outcome()
        ref = None
        try:
            if not case.is_valid:
                inputs = draw_inputs(op, case, seed_of(case.id, self.store.global_seed))
                error = expected_error(op, case, inputs)
                if error is None:
                    raise RuntimeError(f"catalogue error: {case.error_authority} accepts {case.id}, "
                                       "which the domain lists as invalid")
                self._expect_error(op, case, inputs, error)
                outcome.checks = ("error",)
                return outcome
            ref = self.store.get(case)
            if ref.error is not None:
                self._expect_error(op, case, ref.inputs, ref.error)
                outcome.checks = ("error",)
                return outcome
            outcome.checks = self._check_values(op, case, ref, outcome)
            if (case.dtype == "float64" and derivative_order(op, case.dtype) >= 1
                    and case.params == case.canonical):
                self._check_numeric(op, case)
                outcome.checks += ("numeric",)
        except Mismatch as mismatch:
            repro = "" if ref is None else "\n" + self._repro(op, case, ref)
            raise Mismatch(f"{case.id}: {mismatch}{repro}") from None
        return outcome

    # -- the checks

    def _variables(self, inputs):
        return [self.impl.Variable(np.array(x, copy=True)) for x in inputs]

    def _expect_error(self, op, case, inputs, error):
        expected = type(error)
        why = f"expected {expected.__name__}, as {case.error_authority or 'jax'} raises ({error})"
        try:
            result = op.impl(self.F, *self._variables(inputs), **case.kwargs)
        except expected:
            return
        except Exception as other:  # noqa: BLE001
            raise Mismatch(f"{why}; got {type(other).__name__}: {other}") from None
        shape = getattr(getattr(result, "data", result), "shape", "?")
        raise Mismatch(f"{why}; but it returned a result of shape {shape}")

    def _as_array(self, what, value):
        if not isinstance(value, self.impl.Variable):
            raise Mismatch(f"{what} is a {type(value).__name__}, expected a {self.impl_name}.Variable")
        if not isinstance(value.data, np.ndarray):
            raise Mismatch(f"{what}.data is a {type(value.data).__name__}, expected a numpy.ndarray")
        return value.data

    def _check_values(self, op, case, ref, outcome):
        kwargs = case.kwargs
        inputs = self._variables(ref.inputs)
        y = _call("forward", op.impl, self.F, *inputs, **kwargs)
        got = self._as_array("forward result", y)
        length = op.length(case.shapes, case.canonical_kwargs)
        rtol, atol = tolerance((got.dtype, ref.value.dtype, case.dtype), length, op.tolerance,
                               self.backend)
        scale = _magnitude(*ref.inputs)
        compare("forward value", got, ref.value, rtol, atol, scale, outcome)
        if ref.numpy_dtype is not None and got.dtype != ref.numpy_dtype:
            raise Mismatch(f"forward dtype {got.dtype}, expected {ref.numpy_dtype} (NumPy's result dtype)")
        order = derivative_order(op, case.dtype)
        if order == 0:
            return ("forward",)

        positions = op.grad_positions(len(inputs))
        y.grad = self.impl.Variable(ref.cotangent.copy())
        _call(f"backward(create_graph={order >= 2})", y.backward, create_graph=order >= 2)
        grads = []
        grad_scale = scale * _magnitude(ref.cotangent)
        for i, want in zip(positions, ref.grads):
            g = inputs[i].grad
            if g is None:
                raise Mismatch(f"input {i} has no gradient after backward (expected shape {want.shape})")
            data = self._as_array(f"gradient of input {i}", g)
            compare(f"gradient of input {i} (vs jax.vjp)", data, want, rtol, atol, grad_scale, outcome,
                    op.normwise)
            if data.dtype != inputs[i].data.dtype:
                raise Mismatch(f"gradient of input {i} has dtype {data.dtype}, expected the input's "
                               f"{inputs[i].data.dtype}")
            grads.append(g)
        if order == 1:
            return ("forward", "vjp")

        for variable in inputs:
            variable.cleargrad()
        def pair_with_tangents():
            total = None
            for g, t in zip(grads, ref.tangents):
                term = (g * self.impl.Variable(t.copy())).sum()
                total = term if total is None else total + term
            return total

        pairing = _call("pairing the gradients with the tangents (Variable * and .sum())",
                        pair_with_tangents)
        _call("second-order backward", pairing.backward)
        hvp_scale = grad_scale * _magnitude(*ref.tangents)
        for i, want in zip(positions, ref.hvps):
            g = inputs[i].grad
            data = np.zeros_like(want) if g is None else self._as_array(f"second derivative of input {i}", g)
            compare(f"Hessian-vector product for input {i} (vs JAX)", data, want, rtol, atol,
                    hvp_scale, outcome, op.normwise)
        return ("forward", "vjp", "hvp")

    def _check_numeric(self, op, case):
        """The implementation's reverse mode against its own forward, by a fourth-order central
        difference in float64 along a random unit direction: an opinion independent of JAX."""
        rng = np.random.default_rng(seed_of(case.id, "numeric", self.store.global_seed))
        draw = op.numeric_draw or op.draw
        inputs = draw(rng, case.shapes, "float64")
        positions = op.grad_positions(len(inputs))
        variables = self._variables(inputs)
        y = _call("forward", op.impl, self.F, *variables, **case.kwargs)
        cotangent = rng.standard_normal(np.shape(y.data))
        y.grad = self.impl.Variable(cotangent)
        _call("backward", y.backward)
        self._check_no_graph_by_default(op, case, inputs, y, {i: variables[i] for i in positions})
        if np.asarray(y.data).dtype != np.float64:
            return  # a float32 output (a cast) rounds away what the differences measure
        directions = {i: rng.standard_normal(inputs[i].shape) for i in positions}
        norm = np.sqrt(sum(float(np.sum(d * d)) for d in directions.values())) or 1.0
        analytic = 0.0
        for i in positions:
            if variables[i].grad is None:
                return
            analytic += float(np.sum(variables[i].grad.data * directions[i])) / norm

        def pairing(step):
            moved = [x + step * directions[i] / norm if i in directions else x
                     for i, x in enumerate(inputs)]
            out = op.impl(self.F, *self._variables(moved), **case.kwargs)
            return float(np.sum(cotangent * out.data))

        h = 1e-3
        center = pairing(0.0)
        numeric = (8 * (pairing(h) - pairing(-h)) - (pairing(2 * h) - pairing(-2 * h))) / (12 * h)
        if not (np.isfinite(center) and np.isfinite(analytic) and np.isfinite(numeric)):
            return
        if abs(numeric - analytic) > 1e-6 * (1 + abs(analytic) + abs(center)):
            raise Mismatch(f"directional derivative by central differences (float64, h={h}) is "
                           f"{numeric!r}, the implementation's backward gives {analytic!r}")

    def _check_no_graph_by_default(self, op, case, inputs, y, variables):
        """DeZero's graph rules: `backward()` with its defaults records no graph of the
        gradients (create_graph=False), and a forward under `no_grad()` records none at all."""
        for i, x in variables.items():
            if getattr(x.grad, "creator", None) is not None:
                raise Mismatch(f"backward() with its defaults recorded a graph for the gradient of "
                               f"input {i} (its .creator is set): create_graph must default to False")
        no_grad = getattr(self.impl, "no_grad", None)
        if no_grad is None:
            return

        def forward_without_graph():
            with no_grad():
                return op.impl(self.F, *self._variables(inputs), **case.kwargs)

        plain = _call("forward under no_grad()", forward_without_graph)
        if getattr(plain, "creator", None) is not None:
            raise Mismatch("the forward under no_grad() recorded a graph (the output's .creator "
                           "is set)")
        if not np.array_equal(self._as_array("forward result under no_grad()", plain), y.data,
                              equal_nan=True):
            raise Mismatch("the forward under no_grad() gives other values than with the graph")

    def _repro(self, op, case, ref):
        return (
            f"  seed {ref.seed}: the inputs, cotangent and tangents derive from the case id;\n"
            f"  rerun this test id alone to reproduce, or in Python:\n"
            f"    from conformance.repro import load\n"
            f"    case, op, ref = load({case.id!r})\n"
            f"    import {self.impl_name} as lib\n"
            f"    xs = [lib.Variable(x) for x in ref.inputs]\n"
            f"    y = op.impl(lib.functions, *xs, **case.kwargs)   # {op.name}({', '.join(f'{k}={fmt(v)}' for k, v in case.params)})\n"
            f"    y.grad = lib.Variable(ref.cotangent); y.backward()\n"
            f"    print(y.data - ref.value, [x.grad.data - g for x, g in zip(xs, ref.grads)])")
