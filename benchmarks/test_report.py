"""Unit tests of the report (`python -m benchmarks.report`) on the recorded runs in testdata/, and
an end-to-end test of the regression flow: save a run, compare a later run against it with
pytest-benchmark, then report and gate on the ratio impl/numpy."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

from benchmarks import report

DATA = pathlib.Path(__file__).resolve().parent / "testdata"
ROOT = DATA.parent.parent
RUN = DATA / "run.json"
BASELINE = DATA / "baseline.json"
MISSING = DATA / "run_missing_contender.json"
REGRESSED = "sum[float64-(2,3,4)-axis=1-keepdims=False]"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_main(*args):
    return report.main([str(a) for a in args])


def rows_of(text, case):
    return [line for line in text.splitlines() if line.startswith(f"| `{case}` |")]


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


# ----------------------------------------------------------------------------- the report

def test_report_of_a_run(tmp_path, capsys):
    assert run_main(RUN, "--out", tmp_path, "--no-plots") == 0
    assert str(tmp_path / "report.md") in capsys.readouterr().out
    text = (tmp_path / "report.md").read_text()
    # Machine header, with what the conftest hook adds to machine_info.
    for needle in ("| CPU |", "| NumPy | 2.", "| BLAS |", "| JAX | 0.", "backend cpu", "| autograd |"):
        assert needle in text, needle
    for section in ("## Goals for impl", "## Headline", "## Achieved bandwidth",
                    "## Conformance suite throughput", "## Per op", "### sum"):
        assert section in text, section
    assert "## Against the baseline" not in text
    # Each contender's median and the three ratios, for the forward+backward row of a case.
    data = json.loads(RUN.read_text())
    medians = {b["extra_info"]["contender"]: b["stats"]["median"] for b in data["benchmarks"]
               if b["extra_info"].get("case") == REGRESSED and b["extra_info"].get("suite") == "grid"
               and b["extra_info"]["mode"] == "fwdbwd"}
    assert set(medians) == set(report.CONTENDERS)
    row = next(cells(r) for r in rows_of(text, REGRESSED) if cells(r)[1] == "fwdbwd")
    assert row[3:8] == [report.fmt_time(medians[c]) for c in report.CONTENDERS]
    assert row[8:11] == [report.fmt_ratio(medians["impl"] / medians[c]) for c in ("numpy", "jax-jit", "autograd")]
    # Forward rows have impl and numpy only.
    fwd = next(cells(r) for r in rows_of(text, REGRESSED) if cells(r)[1] == "fwd")
    assert fwd[5:8] == ["—", "—", "—"] and fwd[9:11] == ["—", "—"]
    # Copy bandwidth comes from the numpy-copy benchmark of the same run.
    copy = next(b for b in data["benchmarks"] if b["extra_info"]["contender"] == "numpy-copy")
    assert f"**{copy['extra_info']['bytes'] / copy['stats']['median'] / 1e9:.2f} GB/s**" in text
    assert "| cold | 200 |" in text and "| warm | 200 |" in text


def test_plots_are_written(tmp_path):
    # The recorded run cut to one op, to keep the test quick (matplotlib takes ~1 s a figure).
    data = json.loads(RUN.read_text())
    data["benchmarks"] = [b for b in data["benchmarks"] if b["extra_info"].get("op") in ("sum", "copy")]
    run = tmp_path / "run.json"
    run.write_text(json.dumps(data))
    assert run_main(run, "--out", tmp_path) == 0
    pngs = {p.name: p for p in tmp_path.glob("*.png")}
    assert sorted(pngs) == ["bandwidth.png", "impl_over_numpy.png", "time_sum.png"]
    for name in pngs:
        content = pngs[name].read_bytes()
        assert content.startswith(PNG_MAGIC) and len(content) > 5_000, name
    text = (tmp_path / "report.md").read_text()
    assert all(f"]({name})" in text for name in pngs)


def test_no_plots(tmp_path):
    assert run_main(RUN, "--out", tmp_path, "--no-plots") == 0
    assert not list(tmp_path.glob("*.png"))


def test_missing_contender(tmp_path):
    case = "sum[float64-(100,100,100)-axis=None-keepdims=False]"
    assert run_main(MISSING, "--out", tmp_path, "--no-plots") == 0
    text = (tmp_path / "report.md").read_text()
    row = next(cells(r) for r in rows_of(text, case) if cells(r)[1] == "fwdbwd")
    header = cells(next(line for line in text.splitlines() if line.startswith("| case | mode | elements")))
    values = dict(zip(header, row))
    assert values["jax-jit"] == "—" and values["autograd"] == "—"
    assert values["impl/jax-jit"] == "—" and values["impl/autograd"] == "—"
    assert values["impl"] != "—" and values["jax-eager"] != "—" and values["impl/numpy"] != "—"


def test_baseline_with_different_cases(tmp_path, capsys):
    assert run_main(RUN, BASELINE, "--out", tmp_path, "--no-plots") == 0
    text = (tmp_path / "report.md").read_text()
    assert "## Against the baseline" in text
    assert "Cases only in this run (1): `max[float32-(2,3,4)-axis=(2,-3)-keepdims=False]`" in text
    assert "Cases only in the baseline (1): `exp[float64-(2,3,4)]`" in text
    section = text.split("### impl/numpy per case")[1].split("### Medians per benchmark")[0]
    flagged = [cells(line) for line in section.splitlines() if "**regression**" in line]
    assert [(c[0], c[1]) for c in flagged] == [(f"`{REGRESSED}`", "fwdbwd")]
    assert flagged[0][4] == "+67%"
    # Every median moved by the same factor (a slower machine): each flagged, no ratio moved.
    medians = text.split("### Medians per benchmark")[1].split("##")[0]
    assert medians.count("| -33% | faster |") >= 20


def test_ratio_gate_fails_and_lists_the_case(capsys, tmp_path):
    assert run_main(RUN, BASELINE, "--out", tmp_path, "--no-plots", "--fail-on-ratio-regression", 30) == 1
    out = capsys.readouterr().out
    assert "regressed by more than 30%" in out
    assert f"{REGRESSED} forward+backward: 1.16 -> 1.94 (+67%)" in out
    assert "exp[" not in out.split("regressed")[1]


def test_ratio_gate_passes_a_uniformly_slower_machine(capsys, tmp_path):
    # Against itself scaled by 1.5 (the baseline is the run on a slower machine), only the
    # doctored case moved: a gate above its change passes although every median changed 33%.
    assert run_main(RUN, BASELINE, "--out", tmp_path, "--no-plots", "--fail-on-ratio-regression", 70) == 0
    assert "no impl/numpy regression above 70%" in capsys.readouterr().out


def test_run_against_itself(tmp_path):
    assert run_main(RUN, RUN, "--out", tmp_path, "--no-plots", "--fail-on-ratio-regression", 0) == 0


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("name, message", [
    ("corrupt.json", "not valid JSON"),
    ("empty.json", "the file is empty"),
    ("no-such-file.json", "no such file"),
])
def test_unusable_files(tmp_path, capsys, name, message):
    assert run_main(DATA / name, "--out", tmp_path) == 2
    err = capsys.readouterr().err
    assert err.startswith("benchmarks.report: error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "report.md").exists()


def test_corrupt_baseline(tmp_path, capsys):
    assert run_main(RUN, DATA / "corrupt.json", "--out", tmp_path) == 2
    assert "corrupt.json: not valid JSON" in capsys.readouterr().err


@pytest.mark.parametrize("content, message", [
    ("[1, 2]", "not a pytest-benchmark JSON file"),
    ('{"machine_info": {}}', "not a pytest-benchmark JSON file"),
    ('{"benchmarks": []}', "holds no timed benchmarks"),
    ('{"benchmarks": [{"name": "other", "stats": {"median": 1.0}, "extra_info": {}}]}',
     "1 benchmarks of other suites"),
    ('{"benchmarks": [{"name": "x", "stats": {}, "extra_info": {"contender": "impl"}}]}',
     "has no positive stats.median"),
    ('{"benchmarks": [{"name": "x", "stats": {"median": 1e-5}, "extra_info": {"contender": "impl", '
     '"elements": "many"}}]}', "malformed extra_info"),
])
def test_not_a_run_of_these_suites(tmp_path, capsys, content, message):
    path = tmp_path / "run.json"
    path.write_text(content)
    assert run_main(path, "--out", tmp_path / "out") == 2
    assert message in capsys.readouterr().err


def test_gate_needs_a_baseline(tmp_path, capsys):
    assert run_main(RUN, "--out", tmp_path, "--fail-on-ratio-regression", 10) == 2
    assert "needs a BASELINE" in capsys.readouterr().err


def test_usage_error(capsys):
    assert run_main(RUN) == 2  # no --out
    assert "--out" in capsys.readouterr().err


def test_command_line_without_traceback(tmp_path):
    """The real command: exit status 2 and one line on stderr for a corrupt file."""
    result = subprocess.run([sys.executable, "-m", "benchmarks.report", str(DATA / "corrupt.json"),
                             "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("benchmarks.report: error: ")


def test_number_formats():
    assert report.fmt_time(2.5e-5) == "25 µs"
    assert report.fmt_time(0.0123) == "12.3 ms"
    assert report.fmt_time(3e-8) == "30 ns"
    assert report.fmt_time(None) == "—"
    assert report.fmt_elements(24) == "24" and report.fmt_elements(1_000_000) == "10^6"
    assert report.fmt_elements(99_856) == "99,856"
    assert report.fmt_pct(0.671) == "+67%"


# ----------------------------------------------------------------------------- the CI flow

def _clean_env():
    """The environment of a child pytest that times: not an xdist worker (pytest-benchmark reads
    PYTEST_XDIST_WORKER and would disable itself), no grid override."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT_TEST")) and k != "DEZERO_BENCH_GRID"}
    env["JAX_PLATFORMS"] = "cpu"
    return env


def test_regression_flow(tmp_path):
    """Save a run, compare a later one against it (pytest-benchmark's --benchmark-compare and
    --benchmark-compare-fail), and gate on impl/numpy with the report: all as README.md says."""
    storage = tmp_path / "storage"
    common = [sys.executable, "-m", "pytest", "benchmarks/test_bench_ops.py", "-q", "-p", "no:xdist",
              "--bench-grid", "tiny", "-k", "sum- and float64 and fwdbwd and (impl or numpy)",
              "--benchmark-max-time=0.005", "--benchmark-min-rounds=2",
              f"--benchmark-storage=file://{storage}"]

    def pytest_run(*extra):
        result = subprocess.run(common + list(extra), cwd=ROOT, env=_clean_env(), capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result

    pytest_run("--benchmark-autosave", f"--benchmark-json={tmp_path / 'base.json'}")
    saved = list(storage.rglob("0001_*.json"))
    assert len(saved) == 1, list(storage.rglob("*"))
    later = pytest_run("--benchmark-compare=0001", "--benchmark-compare-fail=median:100000%",
                       f"--benchmark-json={tmp_path / 'new.json'}")
    assert "0001" in later.stdout  # the comparison table names the saved run

    new = json.loads((tmp_path / "new.json").read_text())
    assert len(new["benchmarks"]) == 2  # the float64 sum case: impl and numpy forward+backward
    info = new["machine_info"]["dezero_bench"]
    assert info["jax"]["backend"] == "cpu" and info["bench_grid"] == "tiny" and info["numpy_version"]
    assert {b["extra_info"]["contender"] for b in new["benchmarks"]} == {"impl", "numpy"}

    out = tmp_path / "report"
    assert run_main(tmp_path / "new.json", saved[0], "--out", out, "--no-plots",
                    "--fail-on-ratio-regression", 100000) == 0
    text = (out / "report.md").read_text()
    assert "## Against the baseline" in text and "(headline)" not in text
    assert "impl/numpy per case" in text and "sum[float64-(2,3,4)-axis=1-keepdims=False]" in text


def test_testdata_is_small():
    """The recorded runs stay small: no per-round data in them."""
    for path in DATA.glob("*.json"):
        assert path.stat().st_size < 200_000, path
