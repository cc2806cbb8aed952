"""How the recorded JSON files here were made (kept for reference; rerun to refresh them):

    .venv/bin/python -m pytest benchmarks -q --benchmark-json /tmp/run.json \
        -k "test_op and (sum- or exp- or max-) or headline or copy or throughput"
    .venv/bin/python benchmarks/testdata/make_testdata.py /tmp/run.json

- run.json: a few cases of that real run (every contender), the headline, numpy-copy and the
  conformance-suite entries;
- baseline.json: the same run as if recorded earlier on a machine 1.5x slower: every median x1.5,
  one case dropped (max), one added (exp at 24 elements), and impl's forward+backward on
  `sum[float64-(2,3,4)-axis=1-keepdims=False]` faster, so that the run's impl/numpy there is a
  +67% regression against it while every other ratio is unchanged;
- run_missing_contender.json: run.json without autograd and jax-jit on one case;
- corrupt.json: run.json cut off in the middle; empty.json: an empty file.
"""
import copy
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
KEEP = {"sum[float64-(2,3,4)-axis=1-keepdims=False]", "sum[float64-(100,100,100)-axis=None-keepdims=False]",
        "max[float32-(2,3,4)-axis=(2,-3)-keepdims=False]", "exp[float64-(100,100,100)]"}
EXTRA_IN_BASELINE = "exp[float64-(2,3,4)]"
REGRESSED = "sum[float64-(2,3,4)-axis=1-keepdims=False]"


def scaled(bench, factor):
    bench = copy.deepcopy(bench)
    for key in ("min", "max", "mean", "stddev", "median", "iqr", "q1", "q3", "total"):
        if key in bench["stats"]:
            bench["stats"][key] *= factor
    bench["stats"]["ops"] = 1 / bench["stats"]["mean"]
    return bench


def main(source):
    data = json.loads(pathlib.Path(source).read_text())
    data["machine_info"]["node"] = "bench-host"
    benches = data["benchmarks"]
    for bench in benches:
        bench["stats"].pop("data", None)  # every round's time: not needed, and large

    def ours(b, cases):
        info = b["extra_info"]
        return info.get("suite") != "grid" or info.get("case") in cases

    run = dict(data, benchmarks=[b for b in benches if ours(b, KEEP)])
    (HERE / "run.json").write_text(json.dumps(run, indent=1))

    base_cases = (KEEP - {"max[float32-(2,3,4)-axis=(2,-3)-keepdims=False]"}) | {EXTRA_IN_BASELINE}
    base = []
    for b in benches:
        if ours(b, base_cases):
            info = b["extra_info"]
            factor = 1.5
            if info.get("case") == REGRESSED and info["contender"] == "impl" and info["mode"] == "fwdbwd" \
                    and info["suite"] == "grid":
                factor = 1.5 * 0.6
            base.append(scaled(b, factor))
    baseline = dict(data, benchmarks=base, datetime="2026-01-01T00:00:00+00:00",
                    commit_info=dict(data["commit_info"], id="0" * 40, dirty=False))
    (HERE / "baseline.json").write_text(json.dumps(baseline, indent=1))

    missing = dict(run, benchmarks=[
        b for b in run["benchmarks"]
        if not (b["extra_info"].get("case") == "sum[float64-(100,100,100)-axis=None-keepdims=False]"
                and b["extra_info"]["contender"] in ("autograd", "jax-jit"))])
    (HERE / "run_missing_contender.json").write_text(json.dumps(missing, indent=1))

    text = (HERE / "run.json").read_text()
    (HERE / "corrupt.json").write_text(text[: len(text) // 2])
    (HERE / "empty.json").write_text("")


if __name__ == "__main__":
    main(sys.argv[1])
