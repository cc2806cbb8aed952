# The repository root is on sys.path (rootdir conftest), so `import impl`, `conformance` and
# `benchmarks` work from a plain checkout; the conformance plugin adds its options and items.
pytest_plugins = ["conformance.plugin"]
