"""Adapters that let third-party DeZero-style packages be tested with `--impl`."""
