"""Conformance of DeZero-style autodiff implementations against JAX."""
