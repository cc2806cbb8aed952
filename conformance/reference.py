"""JAX as the reference: platform selection, and the batched computation of reference values.

A reference depends only on the canonical case (axes normalized and sorted, ...), so it is computed
once per canonical case and shared by every spelling; a reduction with keepdims=True shares its
keepdims=False computation (see `reference_source`). The canonical cases of one op, dtype and batch
key are split into chunks, and each chunk is one jitted program that returns, for every case in it,
the forward value, the vector-Jacobian product with a random cotangent and a Hessian-vector product.
With JAX's persistent compilation cache a warm run compiles nothing.
"""
import dataclasses
import functools
import hashlib
import os
import pathlib
import pickle
from typing import Optional

import numpy as np

from conformance.catalogue import BY_NAME, seed_of

PLATFORMS = ("cpu", "gpu", "tpu")
MAX_BATCH = 16  # compile time grows linearly with the batch; small chunks balance better
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


def configure_jax(platform=None, cache_dir=None):
    """Select the platform, enable float64 and the compilation cache. Must run before the first
    JAX computation: JAX ignores a platform change once its backend has started."""
    if platform:
        if platform not in PLATFORMS:
            raise ValueError(f"--jax-platform must be one of {', '.join(PLATFORMS)}, got {platform!r}")
        os.environ["JAX_PLATFORMS"] = "cuda" if platform == "gpu" else platform
    import jax
    if platform:
        jax.config.update("jax_platforms", os.environ["JAX_PLATFORMS"])
    jax.config.update("jax_enable_x64", True)
    # The reference for a float32 matmul is the float32-exact product, not TF32/bf16 passes.
    jax.config.update("jax_default_matmul_precision", "highest")
    if cache_dir:
        jax.config.update("jax_compilation_cache_dir", str(cache_dir))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def backend_info():
    """What produced the references: JAX version, backend, device kind, x64."""
    import jax
    device = jax.devices()[0]
    return {
        "jax_version": jax.__version__,
        "backend": jax.default_backend(),
        "device": getattr(device, "device_kind", str(device)),
        "device_count": jax.device_count(),
        "x64": bool(jax.config.jax_enable_x64),
    }


def supports_float64():
    """TPUs compute float64 in software or not at all: those cases are skipped there."""
    import jax
    return jax.default_backend() != "tpu"


@dataclasses.dataclass
class Reference:
    """What the implementation is checked against for one canonical case."""
    inputs: list
    seed: int
    value: Optional[np.ndarray] = None
    numpy_dtype: Optional[np.dtype] = None
    cotangent: Optional[np.ndarray] = None
    grads: Optional[list] = None
    tangents: Optional[list] = None
    hvps: Optional[list] = None
    error: Optional[BaseException] = None      # the exception JAX raised, if it rejects the case


def derivative_order(op, dtype):
    return op.order if np.dtype(dtype).kind == "f" else 0


def canonical_key(case, global_seed):
    return (case.op, case.dtype, case.shapes, case.canonical, global_seed)


def draw_inputs(op, case, seed):
    return op.draw(np.random.default_rng(seed), case.shapes, case.dtype)


class ReferenceStore:
    """Computes references chunk by chunk, on first demand, and keeps them for the session.

    With a `cache_dir`, each chunk's JAX results are also kept on disk under a name that digests
    everything they depend on (the cases, the seed, the JAX version and device, the source of the
    catalogue and of this module), so a warm run does not run JAX at all."""

    def __init__(self, global_seed=0, cache_dir=None):
        self.global_seed = global_seed
        self.cache_dir = pathlib.Path(cache_dir) if cache_dir else None
        self._values = {}

    def get(self, case):
        key = canonical_key(case, self.global_seed)
        if key not in self._values:
            source = reference_source(case)
            source_key = canonical_key(source, self.global_seed)
            if source_key not in self._values:
                self._fill_chunk(_chunk_of(source))
            if source is not case:
                self._values[key] = _with_kept_dims(BY_NAME[case.op], case, self._values[source_key])
        return self._values[key]

    def _fill_chunk(self, chunk):
        op = BY_NAME[chunk[0].op]
        prepared = {}
        for case in chunk:
            key = canonical_key(case, self.global_seed)
            prepared[key] = (case, self._prepare(op, case, key))
        path = self._cache_path(op, prepared)
        results = _load(path)
        if results is None:
            results = _compute(op, [item for item in prepared.values() if item[1].error is None])
            _save(path, results)
        for (case, ref), result in zip(prepared.values(), _spread(prepared, results)):
            if result is not None:
                ref.value, ref.grads, ref.hvps, error = result
                ref.error = ref.error or error
            if op.linear and ref.tangents is not None and ref.error is None:
                ref.hvps = [np.zeros_like(t) for t in ref.tangents]
            self._values[canonical_key(case, self.global_seed)] = ref

    def _cache_path(self, op, prepared):
        if self.cache_dir is None:
            return None
        digest = hashlib.blake2b(repr((_fingerprint(), list(prepared))).encode(), digest_size=12)
        return self.cache_dir / f"{op.name}-{digest.hexdigest()}.pkl"

    def _prepare(self, op, case, key):
        seed = seed_of(*key)
        inputs = draw_inputs(op, case, seed)
        ref = Reference(inputs=inputs, seed=seed)
        try:
            expected = np.asarray(op.numpy(*inputs, **case.canonical_kwargs))
        except Exception:  # noqa: BLE001 - decided by JAX below
            ref.error = _jax_error(op, inputs, case.canonical_kwargs)
            if ref.error is None:
                # NumPy rejects what JAX accepts: JAX still gives the values; no dtype oracle.
                ref.value = np.asarray(_jax_eager(op, inputs, case.canonical_kwargs))
            return ref
        ref.numpy_dtype = expected.dtype
        order = derivative_order(op, case.dtype)
        if order >= 1:
            rng = np.random.default_rng(seed_of(*key, "cotangent"))
            # In the output's dtype, which a cast or a promotion makes differ from the inputs'.
            ref.cotangent = rng.standard_normal(expected.shape).astype(
                expected.dtype if expected.dtype.kind == "f" else case.dtype)
            if order >= 2:
                ref.tangents = [rng.standard_normal(inputs[i].shape).astype(inputs[i].dtype)
                                for i in op.grad_positions(len(inputs))]
        return ref


def reference_source(case):
    """The canonical case whose JAX computation serves `case`. A reduction with keepdims=True
    is its keepdims=False result with the reduced axes kept as size-1 dims (which is how
    jax.numpy computes it), and the same cotangent numbers in that shape give the same
    gradient and Hessian-vector product: so the two share one computation, and one draw."""
    if case.canonical_kwargs.get("keepdims") is not True:
        return case
    canonical = tuple((k, False if k == "keepdims" else v) for k, v in case.canonical)
    return dataclasses.replace(case, params=canonical, canonical=canonical)


def _with_kept_dims(op, case, source_ref):
    """`case`'s reference from its keepdims=False source: the value and cotangent reshaped to
    the keepdims=True output shape (NumPy's, which is JAX's: test_suite_machinery checks)."""
    ref = dataclasses.replace(source_ref)
    if ref.error is not None or ref.value is None:
        return ref
    try:
        shape = np.shape(op.numpy(*ref.inputs, **case.canonical_kwargs))
    except Exception:  # noqa: BLE001 - NumPy rejects what JAX accepts: ask JAX, abstractly
        import jax
        structs = [jax.ShapeDtypeStruct(x.shape, x.dtype) for x in ref.inputs]
        shape = jax.eval_shape(lambda *xs: op.reference(*xs, **case.canonical_kwargs), *structs).shape
    ref.value = ref.value.reshape(shape)
    if ref.cotangent is not None:
        ref.cotangent = ref.cotangent.reshape(shape)
    return ref


def _jax_eager(op, inputs, kwargs):
    import jax.numpy as jnp
    return op.reference(*[jnp.asarray(x) for x in inputs], **kwargs)


def _jax_error(op, inputs, kwargs):
    """The exception JAX raises for this call, or None when it accepts it."""
    try:
        _jax_eager(op, inputs, kwargs)
    except Exception as error:  # noqa: BLE001 - any exception is the reference's answer
        return error
    return None


def expected_error(op, case, inputs):
    """For a spelling that must be rejected: the exception the case's authority raises."""
    if case.error_authority == "jax":
        return _jax_error(op, inputs, case.kwargs)
    if case.error_authority == "python":
        return TypeError(f"an argument of the wrong type: {case.params}")
    try:
        op.numpy(*inputs, **case.kwargs)
    except Exception as error:  # noqa: BLE001
        return error
    return None


def _spread(prepared, results):
    """Results of the cases that went to JAX, in `prepared` order, None for the others."""
    it = iter(results)
    return [next(it) if ref.error is None else None for _, ref in prepared.values()]


def _compute(op, items):
    """(value, grads, hvps, error) for each (case, reference) item, batched in one jitted
    program; if JAX rejects the batch, case by case to find which it rejects."""
    if not items:
        return []
    try:
        return _run_batch(op, items)
    except Exception:  # noqa: BLE001 - JAX's own error is the reference; found below
        pass
    results = []
    for item in items:
        try:
            results.extend(_run_batch(op, [item]))
        except Exception as error:  # noqa: BLE001
            results.append((None, None, None, error))
    return results


def _run_batch(op, items):
    import jax
    signature = tuple((case.canonical, tuple(x.shape for x in ref.inputs), ref.cotangent is not None,
                       ref.tangents is not None and not op.linear) for case, ref in items)
    program = _compile(op.name, signature)
    out = jax.device_get(program([(ref.inputs, ref.cotangent, ref.tangents) for _, ref in items]))
    return [(np.asarray(value),
             None if grads is None else [np.asarray(g) for g in grads],
             None if hvps is None else [np.asarray(h) for h in hvps],
             None) for value, grads, hvps in out]


def _compile(op_name, signature):
    # Not memoized: each program runs once per session, and the executables are large.
    import jax
    op = BY_NAME[op_name]

    def one(canonical, with_hvp, args):
        inputs, cotangent, tangents = args
        kwargs = dict(canonical)
        positions = op.grad_positions(len(inputs))

        def f(*diff):
            full = list(inputs)
            for i, d in zip(positions, diff):
                full[i] = d
            return op.reference(*full, **kwargs)

        primals = [inputs[i] for i in positions]
        value = f(*primals)
        if cotangent is None:
            return value, None, None

        def gradient(*diff):
            return jax.vjp(f, *diff)[1](cotangent)

        if not with_hvp:
            return value, gradient(*primals), None
        # Forward over reverse: the derivative of the gradient along the tangent is the
        # Hessian-vector product, and the primal output of the jvp is the gradient itself.
        grads, hvps = jax.jvp(gradient, tuple(primals), tuple(tangents))
        return value, grads, hvps

    def program(all_args):
        return [one(canonical, with_hvp, args)
                for (canonical, _, _, with_hvp), args in zip(signature, all_args)]

    # The programs run once, in milliseconds; compiling them is the cost, so skip LLVM's
    # expensive optimizations (values are unaffected: no fast-math is enabled).
    return jax.jit(program, compiler_options=FAST_COMPILE)


@functools.lru_cache(maxsize=None)
def _fingerprint():
    import jax
    info = backend_info()
    here = pathlib.Path(__file__).resolve().parent
    sources = b"".join((here / name).read_bytes() for name in ("catalogue.py", "domains.py", "reference.py"))
    return (info["jax_version"], info["backend"], info["device"], info["x64"], np.__version__,
            jax.config.jax_default_matmul_precision, hashlib.sha256(sources).hexdigest())


def _load(path):
    if path is None or not path.exists():
        return None
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except Exception:  # noqa: BLE001 - a damaged cache entry is recomputed
        return None


def _save(path, results):
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            pickle.dump(results, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # atomic: concurrent workers never read half a file
    except Exception:  # noqa: BLE001 - an unpicklable exception just is not cached
        tmp.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- batching plan

@functools.lru_cache(maxsize=None)
def _plan(op_name):
    """canonical identity -> (chunk index, chunk: a tuple of canonical cases), for one op.
    Chunks never mix dtypes, nor shapes for ops that take an axis (their per-shape domains are
    large); they are small so that xdist can spread them evenly."""
    op = BY_NAME[op_name]
    valid = [case for case in op.cases() if case.is_valid]
    sources = {}
    for case in valid:
        source = reference_source(case)
        sources.setdefault(source.canonical_identity, source)
    groups = {}
    for source in sources.values():
        per_shape = len(source.shapes) == 1 and "axis" in source.canonical_kwargs
        groups.setdefault((source.dtype, source.shapes if per_shape else None), []).append(source)
    plan = {}
    chunks = 0
    for ordered in groups.values():
        for start in range(0, len(ordered), MAX_BATCH):
            chunk = tuple(ordered[start:start + MAX_BATCH])
            for source in chunk:
                plan[source.canonical_identity] = (chunks, chunk)
            chunks += 1
    for case in valid:
        plan.setdefault(case.canonical_identity, plan[reference_source(case).canonical_identity])
    return plan


def _chunk_of(source):
    return _plan(source.op)[source.canonical_identity][1]


def batch_scope(case):
    """The name of the chunk whose references the case needs: xdist keeps a scope on one worker,
    so no chunk is computed twice. Invalid spellings need no reference."""
    if not case.is_valid:
        return f"{case.op}:{case.dtype}:invalid"
    index = _plan(case.op)[case.canonical_identity][0]
    return f"{case.op}:{index}"
