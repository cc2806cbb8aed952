"""The test command a mutation tool runs for each of its mutants (see cosmic.py).

    python -m conformance.mutants.tool_test --pristine DIR [--cache DIR] [--timeout S]

Run from a copy of the repository in which the tool has mutated a file of `impl/` on disk; DIR
holds the unmutated `impl/`. It finds the functions the mutation changed, the ops whose cases
reach them (the coverage map, coverage.py), and checks the mutated implementation on those ops'
selected cases in-process. Exit status 0: every case passes, or no case reaches the mutated code
(the mutant survives; the output says which); 1: a case fails (killed).
"""
import argparse
import pathlib
import sys

from conformance.mutants import DEFAULT_CACHE, Runner, first_line, make_store, read_sources
from conformance.mutants import coverage as coverage_module


def check_mutated(runner, coverage, original, mutated):
    """Check the mutated sources on the cases of the ops that reach the changed functions.
    Returns (killed, output): the output's last line starts with KILLED or SURVIVED."""
    names = coverage_module.affected(original, mutated)
    if not names:
        return False, "no change to impl/ found: nothing to test"
    ops = coverage_module.ops_for(names, coverage)
    lines = [f"mutated: {', '.join(names)}"]
    if not ops:
        return False, "\n".join(lines + ["SURVIVED: no case of any op reaches the mutated code"])
    result = runner.run_sources(mutated, ops, "mutant")
    lines.append(f"ops: {', '.join(ops)}; {result.cases_run} case(s) run in {result.seconds:.1f} s")
    if result.killed:
        lines.append(f"KILLED ({result.status}) by {result.first_failure}: {first_line(result.message)}")
    else:
        lines.append("SURVIVED: every case passes")
    return result.killed, "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m conformance.mutants.tool_test")
    parser.add_argument("--pristine", required=True, help="folder holding the unmutated impl/")
    parser.add_argument("--cache", default=str(DEFAULT_CACHE))
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    store = make_store(args.seed, args.cache or None)
    coverage = coverage_module.load_or_measure(store, args.cache or None, args.pristine)
    killed, output = check_mutated(Runner(store, timeout=args.timeout), coverage,
                                  read_sources(args.pristine), read_sources(pathlib.Path.cwd()))
    print(output)
    return 1 if killed else 0


if __name__ == "__main__":
    sys.exit(main())
