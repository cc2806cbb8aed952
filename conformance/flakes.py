"""`python -m conformance.flakes`: run the conformance suite under several global seeds and check
that every case gets the same verdict under each (no flakes).

    python -m conformance.flakes                                  # the whole suite, seeds 0 1 2
    python -m conformance.flakes --seeds 0 1 2 -- -k 'sum[ or max[ or prod[ or std['

Arguments after `--` go to pytest (selection, -n, --impl, ...). Each seed is one pytest run of
conformance/test_ops.py with `--conformance-seed N` and a JUnit XML file; the verdicts (passed,
failed, skipped, xfailed, error) are compared case by case. The cases that came closest to their
tolerance (largest worst error / allowed error over the seeds) are listed too: a ratio creeping
towards 1 is a case whose inputs should be drawn better, never a reason to loosen a tolerance.
Exit status 0: identical verdicts; 1: a case's verdict differs between seeds; 2: a run did not
produce results.
"""
import argparse
import ast
import importlib.util
import pathlib
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parent.parent


def parse_args(argv):
    if "--" in argv:
        at = argv.index("--")
        argv, pytest_args = argv[:at], argv[at + 1:]
    else:
        pytest_args = []
    parser = argparse.ArgumentParser(prog="python -m conformance.flakes", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="global seeds (default 0 1 2)")
    parser.add_argument("--out", default=None, help="keep the JUnit files here (default: a temporary folder)")
    parser.add_argument("--closest", type=int, default=10, help="list this many cases closest to tolerance")
    args = parser.parse_args(argv)
    args.pytest_args = pytest_args
    return args


def verdicts(junit_path):
    """{case id: (verdict, worst ratio)} from a JUnit XML file of a conformance run."""
    results = {}
    for testcase in ET.parse(junit_path).getroot().iter("testcase"):
        name = testcase.get("name")
        verdict = "passed"
        for child in testcase:
            if child.tag in ("failure", "error"):
                verdict = "failed" if child.tag == "failure" else "error"
            elif child.tag == "skipped":
                verdict = "xfailed" if (child.get("type") == "pytest.xfail") else "skipped"
        ratio = 0.0
        for prop in testcase.iter("property"):
            if prop.get("name") == "conformance":
                try:
                    ratio = float(ast.literal_eval(prop.get("value")).get("worst_ratio", 0.0))
                except (ValueError, SyntaxError, AttributeError):
                    pass
        results[name] = (verdict, ratio)
    return results


def run_seed(seed, out_dir, pytest_args):
    junit = out_dir / f"seed-{seed}.xml"
    command = [sys.executable, "-m", "pytest", "conformance/test_ops.py", "-q", "-p", "no:cacheprovider",
               "--conformance-seed", str(seed), "--junitxml", str(junit), "-o", "junit_family=xunit1"]
    if importlib.util.find_spec("xdist") and not any(a == "-n" or a.startswith(("-n", "--numprocesses"))
                                                     for a in pytest_args):
        command += ["-n", "auto"]
    started = time.time()
    run = subprocess.run(command + pytest_args, cwd=ROOT, capture_output=True, text=True)
    tail = [line for line in run.stdout.splitlines() if line.strip()][-1:] or [run.stderr.strip()[-300:]]
    print(f"seed {seed}: {tail[0]} ({time.time() - started:.0f} s)", flush=True)
    return junit if junit.exists() else None


def compare(per_seed):
    """(ids whose verdicts differ, ids missing from some seed's run)."""
    all_ids = sorted(set().union(*(set(r) for r in per_seed.values())))
    differ, missing = [], []
    for case_id in all_ids:
        seen = [per_seed[s].get(case_id) for s in per_seed]
        if any(v is None for v in seen):
            missing.append(case_id)
        elif len({v[0] for v in seen}) > 1:
            differ.append(case_id)
    return differ, missing, all_ids


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out_dir = pathlib.Path(args.out) if args.out else pathlib.Path(tempfile.mkdtemp(prefix="conformance-flakes-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    per_seed = {}
    for seed in args.seeds:
        junit = run_seed(seed, out_dir, args.pytest_args)
        if junit is None:
            print(f"seed {seed}: no results (see the output above); JUnit files in {out_dir}")
            return 2
        per_seed[seed] = verdicts(junit)
    differ, missing, all_ids = compare(per_seed)
    if not all_ids:
        print("no case ran: check the selection (-k ...) after --")
        return 2
    counts = {}
    for verdict, _ in per_seed[args.seeds[0]].values():
        counts[verdict] = counts.get(verdict, 0) + 1
    print(f"\n{len(all_ids):,} cases under seeds {', '.join(map(str, args.seeds))}: "
          + ", ".join(f"{n:,} {v}" for v, n in sorted(counts.items())) + f" (seed {args.seeds[0]})")
    closest = sorted(((max(per_seed[s][c][1] for s in per_seed if c in per_seed[s]), c) for c in all_ids),
                     reverse=True)[:args.closest]
    if closest and closest[0][0] > 0:
        print("closest to tolerance (worst error / allowed error, the max over the seeds):")
        for ratio, case_id in closest:
            by_seed = " ".join(f"{per_seed[s][case_id][1]:.3f}" for s in per_seed if case_id in per_seed[s])
            print(f"  {ratio:6.3f}  {case_id}  (per seed: {by_seed})")
    for case_id in missing:
        print(f"MISSING under some seed: {case_id}")
    if differ:
        print(f"\nFLAKY: {len(differ)} case(s) with different verdicts under different seeds:")
        for case_id in differ:
            print(f"  {case_id}: " + ", ".join(f"seed {s} {per_seed[s][case_id][0]}" for s in per_seed))
        return 1
    print("no flakes: every case has the same verdict under every seed" + (
        "" if not missing else " (but some cases ran under only some seeds)"))
    return 2 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
