"""The benchmark report: Markdown tables and PNG plots from a pytest-benchmark JSON run, optionally
compared with a baseline run.

    python -m benchmarks.report RUN.json [BASELINE.json] --out DIR
        [--fail-on-ratio-regression PCT] [--flag-pct PCT] [--no-plots]

Writes DIR/report.md (machine header; the performance goals; the headline numbers; achieved
bandwidth against the machine's NumPy copy bandwidth; the conformance suite's cases/s; per op and
case each contender's median and the ratios impl/numpy, impl/jax-jit, impl/autograd; with a
baseline, the change per case with regressions flagged) and DIR/*.png (time against elements per
op, impl/numpy against elements, achieved bandwidth).

`--fail-on-ratio-regression PCT` compares, per case and mode, the ratio impl/numpy measured in the
same run with the baseline's ratio, and exits 1 (listing the cases) when any grew by more than PCT
percent: a gate that a uniformly slower (or busier) machine does not trip, unlike absolute times.

Exit status: 0 ok; 1 ratio regression beyond the gate; 2 unusable input (missing, empty, corrupt
or not a pytest-benchmark JSON of these suites), with a one-line message and no traceback.
"""
import argparse
import collections
import dataclasses
import json
import math
import pathlib
import statistics
import sys

CONTENDERS = ("impl", "numpy", "jax-eager", "jax-jit", "autograd")
MODE_TEXT = {"fwd": "forward", "fwdbwd": "forward+backward"}
RATIO_AGAINST = ("numpy", "jax-jit", "autograd")
# Performance goals for impl forward+backward at 10^6 elements and more: impl/numpy at most this.
LARGE_GOALS = {"sum": 1.2, "mean": 1.2, "broadcast_to": 1.2, "sum_to": 1.2, "exp": 1.2, "mul": 1.2,
               "add": 1.2, "max": 1.5, "min": 1.5, "prod": 1.5}
LARGE_FROM = 1_000_000
SMALL_UPTO = 1_000
JIT_BELOW = 10_000
OP_ORDER = ("sum", "mean", "max", "min", "prod", "logsumexp", "exp", "mul", "add", "broadcast_to",
            "sum_to", "matmul", "softmax")  # benchmarks.grid.OPS (not imported: the report needs no numpy)
COLORS = {"impl": "tab:blue", "numpy": "black", "jax-eager": "tab:orange", "jax-jit": "tab:red",
          "autograd": "tab:green"}


class ReportError(Exception):
    """Unusable input: reported as one line, exit status 2."""


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    group: str
    suite: str
    op: str
    case: str
    contender: str
    mode: str
    dtype: str
    elements: int
    bytes: int
    median: float
    extra: dict

    @property
    def key(self):
        return (self.suite, self.case, self.contender, self.mode)


@dataclasses.dataclass
class Run:
    path: pathlib.Path
    machine: dict
    commit: dict
    datetime: str
    version: str
    entries: list
    foreign: int = 0

    def index(self):
        return {e.key: e for e in self.entries}

    def by_suite(self, suite):
        return [e for e in self.entries if e.suite == suite]


# ----------------------------------------------------------------------------- loading

def load_run(path):
    path = pathlib.Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ReportError(f"{path}: is a directory, expected a pytest-benchmark JSON file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ReportError(f"{path}: cannot read it ({error})") from None
    if not text.strip():
        raise ReportError(f"{path}: the file is empty; expected the JSON that pytest-benchmark "
                          "writes with --benchmark-json or --benchmark-autosave")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportError(f"{path}: not valid JSON ({error.msg}: line {error.lineno}, column "
                          f"{error.colno}); a truncated file is what an interrupted run leaves") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ReportError(f"{path}: not a pytest-benchmark JSON file (no 'benchmarks' list)")
    entries, foreign = [], 0
    for i, bench in enumerate(data["benchmarks"]):
        if not isinstance(bench, dict):
            raise ReportError(f"{path}: benchmark #{i} is not a JSON object")
        extra = bench.get("extra_info") or {}
        if not isinstance(extra, dict) or "contender" not in extra:
            foreign += 1  # a benchmark of another suite: not ours to report
            continue
        stats = bench.get("stats")
        median = stats.get("median") if isinstance(stats, dict) else None
        if not isinstance(median, (int, float)) or isinstance(median, bool) or not median > 0:
            raise ReportError(f"{path}: benchmark #{i} ({bench.get('name', '?')}) has no positive "
                              "stats.median")
        try:
            entries.append(Entry(
                name=str(bench.get("name", "")), group=str(bench.get("group") or ""),
                suite=str(extra.get("suite", "grid")), op=str(extra.get("op", "?")),
                case=str(extra.get("case", bench.get("name", "?"))), contender=str(extra["contender"]),
                mode=str(extra.get("mode", "fwdbwd")), dtype=str(extra.get("dtype", "")),
                elements=int(extra.get("elements") or 0), bytes=int(extra.get("bytes") or 0),
                median=float(median), extra=extra))
        except (TypeError, ValueError) as error:
            raise ReportError(f"{path}: benchmark #{i} ({bench.get('name', '?')}) has malformed "
                              f"extra_info ({error})") from None
    if not entries:
        why = (f" ({foreign} benchmarks of other suites)" if foreign else
               " (was the run untimed? --benchmark-disable and xdist record nothing)")
        raise ReportError(f"{path}: holds no timed benchmarks of these suites{why}")
    return Run(path, data.get("machine_info") or {}, data.get("commit_info") or {},
               str(data.get("datetime", "")), str(data.get("version", "")), entries, foreign)


# ----------------------------------------------------------------------------- numbers

def fmt_time(seconds):
    if seconds is None:
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_ratio(value):
    return "—" if value is None else f"{value:.2f}"


def fmt_pct(value):
    return "—" if value is None else f"{value * 100:+.0f}%"


def fmt_elements(n):
    if n <= 0:
        return "?"
    exponent = round(math.log10(n))
    return f"10^{exponent}" if n >= 10_000 and n == 10 ** exponent else f"{n:,}"


def geomean(values):
    values = [v for v in values if v and v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


class Table:
    """Medians of one run, by (suite, case, mode) then contender."""

    def __init__(self, entries):
        self.rows = collections.OrderedDict()
        for e in sorted(entries, key=lambda e: (e.elements, e.case, e.mode)):
            self.rows.setdefault((e.suite, e.case, e.mode), {})[e.contender] = e

    def ratio(self, key, other, contender="impl"):
        row = self.rows.get(key, {})
        if contender in row and other in row:
            return row[contender].median / row[other].median
        return None

    def by_op(self):
        """Rows per op, ops in the grid's order (others after, by name)."""
        out = {}
        for key, row in self.rows.items():
            any_entry = next(iter(row.values()))
            out.setdefault(any_entry.op, []).append((key, row))
        return collections.OrderedDict(sorted(out.items(), key=lambda kv: op_order(kv[0])))


def op_order(op):
    return (OP_ORDER.index(op), "") if op in OP_ORDER else (len(OP_ORDER), op)


def label(key):
    """A row's case as shown: the case id, with the suite when it is not the op grid."""
    suite, case = key[0], key[1]
    return f"`{case}`" if suite == "grid" else f"`{case}` ({suite})"


def median_of(row, contender):
    return row[contender].median if contender in row else None


# ----------------------------------------------------------------------------- sections

def machine_header(run):
    m = run.machine
    cpu = m.get("cpu") or {}
    extra = m.get("dezero_bench") or {}
    jax = extra.get("jax") or {}
    blas = extra.get("blas")
    if isinstance(blas, list):
        blas = "; ".join(f"{b.get('internal_api', '?')} {b.get('version', '')} "
                         f"({b.get('num_threads', '?')} threads)" for b in blas) or "none found"
    elif isinstance(blas, dict):
        blas = " ".join(str(v) for v in blas.values() if v) or "unknown"
    commit = run.commit
    rows = [
        ("CPU", cpu.get("brand_raw") or m.get("processor") or "unknown"),
        ("cores", f"{cpu.get('count', '?')} (usable by this process: {extra.get('cpus_usable', '?')})"),
        ("machine", f"{m.get('system', '?')} {m.get('release', '')} {m.get('machine', '')}".strip()),
        ("Python", f"{m.get('python_implementation', '')} {m.get('python_version', '?')}".strip()),
        ("NumPy", extra.get("numpy_version", "unknown")),
        ("BLAS", blas or "unknown"),
        ("JAX", f"{jax.get('jax_version', 'unknown')}, backend {jax.get('backend', '?')}, device "
                f"{jax.get('device', '?')} (x64 {jax.get('x64', '?')})" if jax else "unknown"),
        ("autograd", extra.get("autograd_version") or "unknown"),
        ("implementation under test", extra.get("impl", "impl")),
        ("grid", extra.get("bench_grid", "?")),
        ("commit", f"{str(commit.get('id') or '?')[:12]} on {commit.get('branch') or '?'}"
                   f"{' (dirty)' if commit.get('dirty') else ''}"),
        ("run at", run.datetime or "?"),
        ("file", f"{run.path} (pytest-benchmark {run.version or '?'})"),
    ]
    return ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]


def goals_section(table):
    lines = ["## Goals for impl", ""]
    lines += [f"### Large inputs (≥ {fmt_elements(LARGE_FROM)} elements): impl/numpy forward+backward",
              "", "| op | cases | median ratio | worst ratio | worst case | goal | status |",
              "|---|---:|---:|---:|---|---:|---|"]
    by_op = collections.OrderedDict()
    for (suite, case, mode), row in table.rows.items():
        if suite == "grid" and mode == "fwdbwd" and "impl" in row and "numpy" in row:
            e = row["impl"]
            if e.elements >= LARGE_FROM:
                by_op.setdefault(e.op, []).append((row["impl"].median / row["numpy"].median, case))
    for op, ratios in sorted(by_op.items(), key=lambda kv: op_order(kv[0])):
        worst = max(ratios)
        goal = LARGE_GOALS.get(op)
        status = "—" if goal is None else ("meets" if worst[0] <= goal else "**misses**")
        lines.append(f"| {op} | {len(ratios)} | {fmt_ratio(statistics.median(r for r, _ in ratios))} | "
                     f"{fmt_ratio(worst[0])} | `{worst[1]}` | {fmt_ratio(goal) if goal else '—'} | {status} |")
    if not by_op:
        lines.append("| (no case of 10^6 elements or more in this run) | | | | | | |")

    lines += ["", f"### Small inputs (≤ {SMALL_UPTO:,} elements): forward+backward", "",
              "impl faster than jax-eager / autograd: cases where it is, of the cases timed. Overhead: "
              "impl median minus the NumPy floor's, per case; median (min to max) over the op's small cases.",
              "", "| op | cases | faster than jax-eager | faster than autograd | overhead fwd (µs) | "
              "overhead fwd+bwd (µs) |", "|---|---:|---:|---:|---:|---:|"]
    small = collections.OrderedDict()
    for (suite, case, mode), row in table.rows.items():
        if suite != "grid" or "impl" not in row or row["impl"].elements > SMALL_UPTO:
            continue
        entry = small.setdefault(row["impl"].op, {"eager": [], "autograd": [], "fwd": [], "fwdbwd": []})
        if "numpy" in row:
            entry[mode].append((row["impl"].median - row["numpy"].median) * 1e6)
        if mode == "fwdbwd":
            for other, slot in (("jax-eager", "eager"), ("autograd", "autograd")):
                if other in row:
                    entry[slot].append((row["impl"].median < row[other].median, case))
    slower = []
    for op, entry in sorted(small.items(), key=lambda kv: op_order(kv[0])):
        def count(slot):
            got = entry[slot]
            return f"{sum(ok for ok, _ in got)}/{len(got)}" if got else "—"

        def spread(values):
            if not values:
                return "—"
            return f"{statistics.median(values):.1f} ({min(values):.1f} to {max(values):.1f})"
        lines.append(f"| {op} | {len(entry['fwdbwd'])} | {count('eager')} | {count('autograd')} | "
                     f"{spread(entry['fwd'])} | {spread(entry['fwdbwd'])} |")
        slower += [(op, case, other) for other, slot in (("jax-eager", "eager"), ("autograd", "autograd"))
                   for ok, case in entry[slot] if not ok]
    if not small:
        lines.append("| (no small case in this run) | | | | | |")
    if slower:
        lines += ["", "impl slower than jax-eager or autograd at small sizes:", ""]
        lines += [f"- `{case}`: slower than {other}" for _, case, other in slower]

    lines += ["", f"### Where impl is slower than jax-jit below {JIT_BELOW:,} elements (forward+backward)", ""]
    rows = []
    for (suite, case, mode), row in table.rows.items():
        if (suite == "grid" and mode == "fwdbwd" and "impl" in row and "jax-jit" in row
                and row["impl"].elements < JIT_BELOW and row["impl"].median > row["jax-jit"].median):
            rows.append(f"| `{case}` | {fmt_time(row['impl'].median)} | {fmt_time(row['jax-jit'].median)} | "
                        f"{fmt_ratio(row['impl'].median / row['jax-jit'].median)} |")
    lines += (["| case | impl | jax-jit | impl/jax-jit |", "|---|---:|---:|---:|"] + rows
              if rows else ["None: impl is at least as fast as jax-jit on every small case timed."])
    return lines


def headline_section(run):
    entries = run.by_suite("headline")
    if not entries:
        return []
    lines = ["## Headline", ""]
    groups = collections.OrderedDict()
    for e in entries:
        groups.setdefault(e.group, {})[e.contender] = e
    for group, row in groups.items():
        lines += [f"**{group}**", "", "| contender | median | / numpy | minus numpy |", "|---|---:|---:|---:|"]
        floor = row.get("numpy")
        for contender in CONTENDERS:
            if contender in row:
                e = row[contender]
                ratio = e.median / floor.median if floor else None
                minus = f"{(e.median - floor.median) * 1e6:+.1f} µs" if floor else "—"
                lines.append(f"| {contender} | {fmt_time(e.median)} | {fmt_ratio(ratio)} | {minus} |")
        lines.append("")
    return lines


def copy_bandwidth(run):
    copies = [e for e in run.entries if e.contender == "numpy-copy" and e.bytes]
    if not copies:
        return None
    best = max(copies, key=lambda e: e.elements)
    return best.bytes / best.median


def bandwidth_section(run, table):
    copy_bw = copy_bandwidth(run)
    lines = ["## Achieved bandwidth", ""]
    if copy_bw is None:
        lines += ["No `numpy-copy` benchmark in this run: no copy bandwidth to compare with.", ""]
    else:
        lines += [f"NumPy copy bandwidth of this machine (np.copyto, read + write): "
                  f"**{copy_bw / 1e9:.2f} GB/s**.", ""]
    lines += ["Bytes touched / median, forward+backward, at each op's largest case (bytes: inputs, "
              "output, upstream gradient and input gradients; a broadcast view counts as written, so "
              "a view-returning floor can exceed the copy bandwidth).", "",
              "| op | case | " + " | ".join(f"{c} GB/s" for c in CONTENDERS) + " | impl / copy |",
              "|---|---|" + "---:|" * (len(CONTENDERS) + 1)]
    for op, rows in table.by_op().items():
        candidates = [(key, row) for key, row in rows if key[0] == "grid" and key[2] == "fwdbwd"
                      and "impl" in row and row["impl"].bytes]
        if not candidates:
            continue
        key, row = max(candidates, key=lambda kr: (kr[1]["impl"].elements, kr[0][1]))
        cells = [f"{row[c].bytes / row[c].median / 1e9:.2f}" if c in row else "—" for c in CONTENDERS]
        share = (f"{row['impl'].bytes / row['impl'].median / copy_bw:.0%}" if copy_bw else "—")
        lines.append(f"| {op} | `{key[1]}` | " + " | ".join(cells) + f" | {share} |")
    return lines + [""]


def compile_section(table):
    per_op = collections.OrderedDict()
    for op, rows in table.by_op().items():
        times = [row["jax-jit"].extra.get("compile_s") for key, row in rows
                 if key[0] == "grid" and "jax-jit" in row]
        times = [t for t in times if isinstance(t, (int, float))]
        if times:
            per_op[op] = times
    if not per_op:
        return []
    lines = ["## jax-jit compile time", "",
             "Tracing, lowering and compiling the jitted forward+VJP of each case (not in the medians).",
             "", "| op | cases | median | max |", "|---|---:|---:|---:|"]
    for op, times in per_op.items():
        lines.append(f"| {op} | {len(times)} | {fmt_time(statistics.median(times))} | {fmt_time(max(times))} |")
    return lines + [""]


def suite_section(run):
    entries = run.by_suite("conformance")
    if not entries:
        return []
    lines = ["## Conformance suite throughput", "",
             "| state | cases | median per sample | cases/s | failed checks |", "|---|---:|---:|---:|---:|"]
    for e in entries:
        cases = e.extra.get("cases") or 0
        rate = cases / e.median if cases else None
        lines.append(f"| {e.mode} | {cases} | {fmt_time(e.median)} | "
                     f"{'—' if rate is None else f'{rate:,.0f}'} | {e.extra.get('failures', '?')} |")
    return lines + [""]


def per_op_section(table):
    lines = ["## Per op", "",
             "Median per call; ratios are impl's median over the other contender's (below 1: impl is "
             "faster). forward: impl and the floor only.", ""]
    header = ("| case | mode | elements | " + " | ".join(CONTENDERS) + " | "
              + " | ".join(f"impl/{c}" for c in RATIO_AGAINST) + " |")
    rule = "|---|---|---:|" + "---:|" * (len(CONTENDERS) + len(RATIO_AGAINST))
    for op, rows in table.by_op().items():
        grid_rows = [(key, row) for key, row in rows if key[0] == "grid"]
        if not grid_rows:
            continue
        lines += [f"### {op}", "", header, rule]
        for key, row in grid_rows:
            any_entry = next(iter(row.values()))
            cells = [fmt_time(median_of(row, c)) for c in CONTENDERS]
            ratios = [fmt_ratio(table.ratio(key, c)) for c in RATIO_AGAINST]
            lines.append(f"| `{key[1]}` | {key[2]} | {fmt_elements(any_entry.elements)} | "
                         + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
        lines.append("")
    return lines


def compare(run, baseline, threshold):
    """Per benchmark: the change of the median; per (suite, case, mode): the change of impl/numpy.
    Returns (lines, every ratio change as (case, mode, old ratio, new ratio, change))."""
    new, old = run.index(), baseline.index()
    new_table, old_table = Table(run.entries), Table(baseline.entries)
    lines = ["## Against the baseline", "",
             f"Baseline: `{baseline.path}` ({baseline.datetime or '?'}, commit "
             f"{str(baseline.commit.get('id') or '?')[:12]}). A change above {threshold:.0%} is flagged; "
             "the ratio impl/numpy is measured within each run, so a slower or busier machine "
             "moves it much less than the medians.", ""]
    changes = []
    ratio_rows = []
    for key in new_table.rows:
        if key not in old_table.rows:
            continue
        old_ratio, new_ratio = old_table.ratio(key, "numpy"), new_table.ratio(key, "numpy")
        if old_ratio is None or new_ratio is None:
            continue
        change = new_ratio / old_ratio - 1
        changes.append((label(key).replace("`", ""), key[2], old_ratio, new_ratio, change))
        flag = ""
        if change > threshold:
            flag = "**regression**"
        elif change < -threshold:
            flag = "improvement"
        ratio_rows.append(f"| {label(key)} | {key[2]} | {fmt_ratio(old_ratio)} | {fmt_ratio(new_ratio)} | "
                          f"{fmt_pct(change)} | {flag} |")
    lines += ["### impl/numpy per case", "", "| case | mode | baseline | this run | change | |",
              "|---|---|---:|---:|---:|---|"] + (ratio_rows or ["| (no case with impl and numpy in both runs) | | | | | |"])
    lines += ["", "### Medians per benchmark", "",
              "| case | contender | mode | baseline | this run | change | |", "|---|---|---|---:|---:|---:|---|"]
    for key, e in new.items():
        if key in old:
            change = e.median / old[key].median - 1
            flag = "slower" if change > threshold else ("faster" if change < -threshold else "")
            lines.append(f"| {label(key)} | {key[2]} | {key[3]} | {fmt_time(old[key].median)} | "
                         f"{fmt_time(e.median)} | {fmt_pct(change)} | {flag} |")
    only_new = sorted({k[1] for k in new} - {k[1] for k in old})
    only_old = sorted({k[1] for k in old} - {k[1] for k in new})
    missing = sorted(f"{k[1]} {k[2]} {k[3]}" for k in old if k not in new and k[1] in {n[1] for n in new})
    if only_new:
        lines += ["", f"Cases only in this run ({len(only_new)}): " + ", ".join(f"`{c}`" for c in only_new)]
    if only_old:
        lines += ["", f"Cases only in the baseline ({len(only_old)}): " + ", ".join(f"`{c}`" for c in only_old)]
    if missing:
        lines += ["", f"Contenders timed in the baseline but not in this run ({len(missing)}): "
                  + ", ".join(f"`{m}`" for m in missing)]
    return lines + [""], changes


# ----------------------------------------------------------------------------- plots

def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _series(rows, contender, mode, value):
    """(elements, per-case values) and the geometric mean per elements value."""
    points = collections.defaultdict(list)
    for key, row in rows:
        if key[2] == mode and contender in row and row[contender].elements:
            v = value(row[contender])
            if v:
                points[row[contender].elements].append(v)
    xs = sorted(points)
    return points, xs, [geomean(points[x]) for x in xs]


def plot_times(table, out_dir, subtitle):
    plt = _plt()
    written = []
    for op, rows in table.by_op().items():
        rows = [(k, r) for k, r in rows if k[0] == "grid"]
        if not rows:
            continue
        fig, ax = plt.subplots(figsize=(10, 5.5))
        for contender in CONTENDERS:
            for mode, style in (("fwdbwd", "-"), ("fwd", "--")):
                points, xs, ys = _series(rows, contender, mode, lambda e: e.median)
                if not xs:
                    continue
                color = COLORS[contender]
                # Each case as a faint dot, the line through the geometric mean per size.
                ax.plot([x for x in xs for _ in points[x]], [v for x in xs for v in points[x]], ".",
                        ms=4, color=color, alpha=0.35)
                ax.plot(xs, ys, style, marker="o", ms=4, color=color,
                        label=f"{contender} {MODE_TEXT[mode]}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("elements (largest array of the case)")
        ax.set_ylabel("median time per call (s)")
        ax.set_title(f"{op}: time per call (dots: cases; lines: geometric mean per size)\n{subtitle}",
                     fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
        fig.subplots_adjust(left=0.1, right=0.7, bottom=0.11, top=0.88)
        path = out_dir / f"time_{op}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_ratios(table, out_dir, subtitle):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 5.5))
    any_line = False
    cmap = plt.get_cmap("tab20")
    for i, (op, rows) in enumerate(table.by_op().items()):
        points = collections.defaultdict(list)
        for key, row in rows:
            if key[0] == "grid" and key[2] == "fwdbwd" and "impl" in row and "numpy" in row:
                points[row["impl"].elements].append(row["impl"].median / row["numpy"].median)
        if points:
            xs = sorted(points)
            # Strong colours of tab20 first (even indices), then the light ones; markers vary too.
            ax.plot(xs, [geomean(points[x]) for x in xs], marker="os^vD<>"[i % 7], ms=4,
                    color=cmap((2 * i) % 20 + (2 * i // 20) % 2), label=op)
            any_line = True
    if not any_line:
        plt.close(fig)
        return []
    for goal, style in ((1.2, ":"), (1.5, "--")):
        ax.axhline(goal, color="gray", linestyle=style, linewidth=1)
        ax.annotate(f"goal {goal}x", (1, goal), xycoords=("axes fraction", "data"), ha="right",
                    va="bottom", fontsize=8, color="gray")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("elements")
    ax.set_ylabel("impl / numpy floor (forward+backward)")
    from matplotlib.ticker import FormatStrFormatter
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.set_title(f"impl over the NumPy floor (geometric mean of the cases per size)\n{subtitle}", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    path = out_dir / "impl_over_numpy.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def plot_bandwidth(run, table, out_dir, subtitle):
    plt = _plt()
    ops = [(op, [(k, r) for k, r in rows if k[0] == "grid"]) for op, rows in table.by_op().items()]
    ops = [(op, rows) for op, rows in ops if rows]
    if not ops:
        return []
    copy_bw = copy_bandwidth(run)
    ncols = 4 if len(ops) > 6 else min(3, len(ops))
    nrows = math.ceil(len(ops) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.3 * nrows), squeeze=False)
    for ax, (op, rows) in zip(axes.flat, ops):
        for contender in CONTENDERS:
            points, xs, ys = _series(rows, contender, "fwdbwd",
                                     lambda e: e.bytes / e.median / 1e9 if e.bytes else None)
            if xs:
                ax.plot(xs, ys, marker="o", ms=3, color=COLORS[contender], label=contender)
        if copy_bw:
            ax.axhline(copy_bw / 1e9, color="gray", linestyle="--", linewidth=1, label="numpy copy")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(op, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(ops):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower right", fontsize=8)
    fig.supxlabel("elements")
    fig.supylabel("achieved GB/s (bytes touched / median), forward+backward")
    fig.suptitle(f"Achieved bandwidth against this machine's NumPy copy bandwidth\n{subtitle}", fontsize=10)
    fig.tight_layout()
    path = out_dir / "bandwidth.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


# ----------------------------------------------------------------------------- main

def build(run, baseline, out_dir, threshold, plots=True):
    """Write the report (and plots) into out_dir; return (report path, impl/numpy changes
    against the baseline)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table = Table(run.entries)
    cpu = (run.machine.get("cpu") or {}).get("brand_raw") or run.machine.get("processor") or ""
    subtitle = f"{cpu} — {run.datetime[:19]}".strip(" —")
    lines = ["# Benchmark report", ""] + machine_header(run) + [""]
    if run.foreign:
        lines += [f"({run.foreign} benchmarks of other suites in the file were left out.)", ""]
    lines += goals_section(table) + [""]
    lines += headline_section(run)
    lines += bandwidth_section(run, table)
    lines += suite_section(run)
    lines += compile_section(table)
    changes = []
    if baseline is not None:
        more, changes = compare(run, baseline, threshold)
        lines += more
    lines += per_op_section(table)
    if plots:
        for stale in out_dir.glob("time_*.png"):  # from an earlier report of other ops
            stale.unlink()
        pngs = plot_times(table, out_dir, subtitle) + plot_ratios(table, out_dir, subtitle)
        pngs += plot_bandwidth(run, table, out_dir, subtitle)
        lines += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in pngs] + [""]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path, changes


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.report",
        description="Markdown report and PNG plots from a pytest-benchmark JSON run of benchmarks/, "
                    "optionally against a baseline run.")
    parser.add_argument("run", help="the run's JSON (--benchmark-json, or a --benchmark-autosave file)")
    parser.add_argument("baseline", nargs="?", help="a baseline run's JSON to compare with")
    parser.add_argument("--out", required=True, help="folder for report.md and the PNG plots")
    parser.add_argument("--fail-on-ratio-regression", type=float, metavar="PCT", default=None,
                        help="exit 1 if, for any case in both runs, impl/numpy grew by more than PCT "
                             "percent over the baseline's (needs BASELINE)")
    parser.add_argument("--flag-pct", type=float, metavar="PCT", default=None,
                        help="flag changes above PCT percent in the report (default: the gate's PCT, else 25)")
    parser.add_argument("--no-plots", action="store_true", help="write the Markdown report only")
    return parser.parse_args(argv)


def main(argv=None):
    try:
        args = parse_args(argv)
    except SystemExit as exit_:  # argparse has printed its usage message
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        if args.fail_on_ratio_regression is not None and args.baseline is None:
            raise ReportError("--fail-on-ratio-regression needs a BASELINE.json to compare with")
        if args.fail_on_ratio_regression is not None and args.fail_on_ratio_regression < 0:
            raise ReportError("--fail-on-ratio-regression PCT must not be negative")
        run = load_run(args.run)
        baseline = load_run(args.baseline) if args.baseline else None
        pct = args.flag_pct if args.flag_pct is not None else (
            args.fail_on_ratio_regression if args.fail_on_ratio_regression is not None else 25.0)
        path, changes = build(run, baseline, pathlib.Path(args.out), pct / 100, plots=not args.no_plots)
    except ReportError as error:
        print(f"benchmarks.report: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"benchmarks.report: error: cannot write the report to {args.out}: {error}", file=sys.stderr)
        return 2
    print(f"report: {path}")
    if args.fail_on_ratio_regression is not None:
        gate = args.fail_on_ratio_regression / 100
        failing = [c for c in changes if c[4] > gate]
        if failing:
            print(f"impl/numpy regressed by more than {args.fail_on_ratio_regression:g}% against "
                  f"{args.baseline} in {len(failing)} case(s):")
            for case, mode, old, new, change in failing:
                print(f"  {case} {MODE_TEXT.get(mode, mode)}: {old:.2f} -> {new:.2f} ({change * 100:+.0f}%)")
            return 1
        print(f"no impl/numpy regression above {args.fail_on_ratio_regression:g}% against {args.baseline}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
