"""`python -m conformance.mutants`: run the curated mutants against the conformance suite.

Prints one line per mutant (killed by which case, or SURVIVED), the kill rate and the survivors;
exits 1 when a curated mutant survives, 2 when the unmutated implementation fails its own cases
or a mutant no longer applies (its snippet is gone from the source, or the edited source does not
import: update the catalogue).

    python -m conformance.mutants                       # every curated mutant
    python -m conformance.mutants -k matmul -v          # names containing 'matmul', with messages
    python -m conformance.mutants --list
"""
import argparse
import json
import sys
import time

from conformance.mutants import (DEFAULT_CACHE, Runner, StaleMutant, first_line, make_store,
                                 mutated_sources)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m conformance.mutants", description=__doc__.split("\n")[0])
    parser.add_argument("-k", dest="select", action="append", default=[],
                        help="run only mutants whose name contains this (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the curated mutants and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each kill's message")
    parser.add_argument("--all-cases", action="store_true",
                        help="run every selected case of each mutant, not only up to the first failure")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant (default 120)")
    parser.add_argument("--seed", type=int, default=0, help="the suite's global seed (default 0)")
    parser.add_argument("--cache", default=str(DEFAULT_CACHE),
                        help="the suite's cache folder (references/, jax/); '' disables it")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip checking that the unmutated implementation passes the same cases")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from conformance.mutants.catalogue import MUTANTS
    mutants = [m for m in MUTANTS if not args.select or any(s in m.name for s in args.select)]
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:48} {','.join(m.ops)}\n    {m.description}")
        return 0
    if not mutants:
        print("no curated mutant matches", args.select)
        return 2
    stale = []
    for m in mutants:
        try:
            mutated_sources(m)
        except StaleMutant as error:
            stale.append(str(error))
    if stale:
        print("stale curated mutants (their snippets are gone from impl):\n" + "\n".join(stale))
        return 2

    started = time.perf_counter()
    runner = Runner(make_store(args.seed, args.cache or None), timeout=args.timeout,
                    all_cases=args.all_cases)
    ops = sorted({op for m in mutants for op in m.ops})
    n_ops = "every" if "*" in ops else len(ops)
    if not args.no_baseline:
        baseline = runner.baseline(ops)
        print(f"baseline: the unmutated impl on {baseline.cases_run} cases of {n_ops} op(s): "
              f"{'passes' if not baseline.killed else 'FAILS'} ({baseline.seconds:.1f} s)")
        if baseline.killed:
            print(f"  {baseline.first_failure}: {baseline.message}")
            return 2

    results = []
    width = max(len(m.name) for m in mutants)
    for m in mutants:
        result = runner.run_mutant(m)
        results.append(result)
        if result.killed:
            where = f"by {result.first_failure}" if result.first_failure else ""
            print(f"{result.status:11} {m.name:{width}}  {where} "
                  f"({result.cases_run} case(s), {result.seconds:.1f} s)")
            if args.verbose or result.status in ("timeout", "incompetent"):
                print("            " + (result.message if args.verbose else first_line(result.message))
                      .replace("\n", "\n            "))
        else:
            print(f"SURVIVED    {m.name:{width}}  ({result.cases_run} case(s) of "
                  f"{','.join(m.ops)} pass, {result.seconds:.1f} s)")
    incompetent = [m.name for r, m in zip(results, mutants) if r.status == "incompetent"]
    survivors = [r for r, m in zip(results, mutants) if not r.killed]
    killed = len(results) - len(survivors)
    print(f"\ncurated mutants: {killed} of {len(results)} killed "
          f"({100.0 * killed / len(results):.1f}%) in {time.perf_counter() - started:.0f} s")
    if survivors:
        print("survivors (the suite misses these bugs):")
        for r, m in zip(results, mutants):
            if not r.killed:
                print(f"  {m.name}: {m.description}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{**r.__dict__, "ops": list(m.ops), "description": m.description}
                       for r, m in zip(results, mutants)], f, indent=1)
    if incompetent:
        print(f"curated mutants that do not even import (fix their snippets): {', '.join(incompetent)}")
        return 2
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
