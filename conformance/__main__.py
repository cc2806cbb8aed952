"""`python -m conformance [pytest options]`: run the whole conformance suite and write its report.

Defaults: every core (pytest-xdist), the report in reports/; any option given is passed to pytest,
e.g. `python -m conformance --impl conformance.adapters.dezero_numpy2 --report-dir reports/dezero`.
"""
import importlib.util
import sys

import pytest


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    defaults = ["conformance", "-q", "-p", "no:cacheprovider"]
    if not any(a.startswith("--tb") for a in args):
        # Each failure's full message, without pytest's per-failure scan of every other report
        # (quadratic: minutes for an implementation with thousands of failing cases).
        defaults.append("--tb=line")
    if not any(a.startswith("--report-dir") for a in args):
        defaults += ["--report-dir", "reports"]
    if importlib.util.find_spec("xdist") and not any(a == "-n" or a.startswith("-n") or
                                                    a.startswith("--numprocesses") for a in args):
        defaults += ["-n", "auto"]
    return pytest.main(defaults + args)


if __name__ == "__main__":
    sys.exit(main())
