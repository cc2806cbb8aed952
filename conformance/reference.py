"""JAX as the reference: platform selection, and the batched computation of reference values.

A reference depends only on the canonical case (axes normalized and sorted, ...), so it is computed
once per canonical case and shared by every spelling. The canonical cases of one op, dtype and batch
key are split into chunks, and each chunk is one jitted program that returns, for every case in it,
the forward value, the vector-Jacobian product with a random cotangent and a Hessian-vector product.
With JAX's persistent compilation cache a warm run compiles nothing.
"""
import dataclasses
import functools
import os
from typing import Optional

import numpy as np

from conformance.catalogue import BY_NAME, seed_of

PLATFORMS = ("cpu", "gpu", "tpu")
MAX_BATCH = 48


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
    """Computes references chunk by chunk, on first demand, and keeps them for the session."""

    def __init__(self, global_seed=0):
        self.global_seed = global_seed
        self._values = {}

    def get(self, case):
        key = canonical_key(case, self.global_seed)
        if key not in self._values:
            self._compute_chunk(_chunk_of(case))
        return self._values[key]

    def _compute_chunk(self, chunk):
        op = BY_NAME[chunk[0].op]
        prepared = {}
        for case in chunk:
            key = canonical_key(case, self.global_seed)
            prepared[key] = self._prepare(op, case, key)
        batch = [(key, case) for case, (key, ref) in zip(chunk, prepared.items()) if ref.error is None]
        if batch:
            try:
                results = _run_batch(op, [(c, prepared[k]) for k, c in batch])
            except Exception:
                # Some case JAX rejects (e.g. an op it does not define there): find it alone.
                results = []
                for key, case in batch:
                    try:
                        results.extend(_run_batch(op, [(case, prepared[key])]))
                    except Exception as error:  # noqa: BLE001 - JAX's own error is the reference
                        prepared[key].error = error
                        results.append(None)
            for (key, _), result in zip(batch, results):
                if result is not None:
                    value, grads, hvps = result
                    ref = prepared[key]
                    ref.value, ref.grads, ref.hvps = value, grads, hvps
        self._values.update(prepared)

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
            ref.cotangent = rng.standard_normal(expected.shape).astype(case.dtype)
            if order >= 2:
                ref.tangents = [rng.standard_normal(inputs[i].shape).astype(inputs[i].dtype)
                                for i in op.grad_positions(len(inputs))]
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
    try:
        op.numpy(*inputs, **case.kwargs)
    except Exception as error:  # noqa: BLE001
        return error
    return None


def _run_batch(op, items):
    """One jitted program for all (case, prepared reference) items; returns per item
    (value, grads, hvps) as NumPy arrays."""
    import jax
    signature = tuple((case.canonical, tuple(x.shape for x in ref.inputs), ref.cotangent is not None,
                       ref.tangents is not None) for case, ref in items)
    program = _compiled(op.name, signature)
    args = [(ref.inputs, ref.cotangent, ref.tangents) for _, ref in items]
    out = jax.device_get(program(args))
    results = []
    for value, grads, hvps in out:
        results.append((np.asarray(value),
                        None if grads is None else [np.asarray(g) for g in grads],
                        None if hvps is None else [np.asarray(h) for h in hvps]))
    return results


@functools.lru_cache(maxsize=None)
def _compiled(op_name, signature):
    import jax
    import jax.numpy as jnp
    op = BY_NAME[op_name]

    def one(canonical, args):
        inputs, cotangent, tangents = args
        kwargs = dict(canonical)
        positions = op.grad_positions(len(inputs))

        def f(*diff):
            full = list(inputs)
            for i, d in zip(positions, diff):
                full[i] = d
            return op.reference(*full, **kwargs)

        primals = [inputs[i] for i in positions]
        if cotangent is None:
            return f(*primals), None, None
        value, vjp = jax.vjp(f, *primals)
        grads = vjp(cotangent)
        if tangents is None:
            return value, grads, None

        def pairing(*diff):
            return sum(jnp.sum(g * t) for g, t in zip(jax.vjp(f, *diff)[1](cotangent), tangents))

        hvps = jax.grad(pairing, argnums=tuple(range(len(primals))))(*primals)
        return value, grads, hvps

    def program(all_args):
        return [one(canonical, args) for (canonical, *_), args in zip(signature, all_args)]

    return jax.jit(program)


# ----------------------------------------------------------------------------- batching plan

@functools.lru_cache(maxsize=None)
def _plan(op_name):
    """canonical case -> its chunk (a tuple of canonical cases), for one op."""
    op = BY_NAME[op_name]
    scopes = {}
    for case in op.cases():
        if case.is_valid:
            scopes.setdefault(batch_scope(case), {}).setdefault(case.canonical_identity, case)
    chunk_of = {}
    for cases in scopes.values():
        ordered = list(cases.values())
        for start in range(0, len(ordered), MAX_BATCH):
            chunk = tuple(ordered[start:start + MAX_BATCH])
            for case in chunk:
                chunk_of[case.canonical_identity] = chunk
    return chunk_of


def _chunk_of(case):
    return _plan(case.op)[case.canonical_identity]


def batch_scope(case):
    """Cases whose references are computed by the same process: one op, dtype and (for ops with
    a large per-shape domain) shape. Used to keep xdist from computing a chunk twice."""
    per_shape = len(case.shapes) == 1 and "axis" in case.kwargs
    return (case.op, case.dtype, case.shapes if per_shape else None)

