"""pytest-benchmark suites for `impl` against a NumPy floor, JAX (eager and jit) and HIPS autograd,
and the comparison report (`python -m benchmarks.report`). See benchmarks/README.md."""
