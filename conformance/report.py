"""The conformance summary: per op, per facet (axis kind, keepdims, ...) and dtype, the cases
passed, failed, xfailed and skipped, with the worst error seen; written as Markdown and JSON."""
import json
import pathlib

OUTCOMES = ("passed", "failed", "xfailed", "skipped")
MAX_LISTED_FAILURES = 200  # in the Markdown; the JSON lists every failing case


def outcome_of(report):
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "failed"  # a strict xpass fails
    return report.outcome


class Aggregate:
    def __init__(self):
        self.rows = {}        # (op, dtype, facets...) -> counts and worst errors
        self.failures = []    # (case id, first line of the message)
        self.skip_reasons = {}
        self.backend = None
        self.total = 0

    def add(self, report, props):
        # One record per case: its call phase, or the setup phase when that did not pass.
        if not (report.when == "call" or (report.when == "setup" and report.outcome != "passed")):
            return
        outcome = outcome_of(report)
        self.total += 1
        facets = tuple(sorted((k, str(v)) for k, v in props.items()
                              if k not in ("op", "dtype", "worst_ratio", "worst_abs", "checks", "backend")))
        key = (props["op"], props["dtype"], facets)
        row = self.rows.setdefault(key, {**{o: 0 for o in OUTCOMES}, "worst_ratio": 0.0, "worst_abs": 0.0})
        row[outcome] += 1
        row["worst_ratio"] = max(row["worst_ratio"], props.get("worst_ratio", 0.0))
        row["worst_abs"] = max(row["worst_abs"], props.get("worst_abs", 0.0))
        if props.get("backend") and self.backend is None:
            self.backend = props["backend"]
        if outcome == "failed":
            case_id = report.nodeid.split("::", 1)[-1]
            text = str(report.longrepr) if report.longrepr else ""
            text = text.removeprefix(case_id + ": ")
            self.failures.append((case_id, " ".join(text.split("\n", 2)[:2])[:300]))
        elif outcome == "skipped":
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            self.skip_reasons[reason] = self.skip_reasons.get(reason, 0) + 1

    def per_op(self):
        ops = {}
        for (op, dtype, facets), row in self.rows.items():
            total = ops.setdefault(op, {**{o: 0 for o in OUTCOMES}, "worst_ratio": 0.0, "worst_abs": 0.0})
            for o in OUTCOMES:
                total[o] += row[o]
            total["worst_ratio"] = max(total["worst_ratio"], row["worst_ratio"])
            total["worst_abs"] = max(total["worst_abs"], row["worst_abs"])
        return ops

    def totals(self):
        return {o: sum(row[o] for row in self.rows.values()) for o in OUTCOMES}

    def summary_lines(self, meta):
        t = self.totals()
        backend = self.backend or {}
        lines = [f"{self.total:,} cases run of {meta['domain_cases']:,} in the domain: "
                 + ", ".join(f"{t[o]:,} {o}" for o in OUTCOMES),
                 f"implementation: {meta['impl']}; reference: JAX {backend.get('jax_version', '?')} on "
                 f"{backend.get('backend', meta['platform_requested'])} ({backend.get('device', '?')}), "
                 f"x64 {'on' if backend.get('x64') else 'off'}; seed {meta['seed']}"]
        failing = [(op, row["failed"]) for op, row in sorted(self.per_op().items()) if row["failed"]]
        if failing:
            lines.append("failing ops: " + ", ".join(f"{op} ({n})" for op, n in failing))
        return lines

    def to_json(self, meta):
        return {
            "meta": {**meta, "backend": self.backend},
            "totals": {**self.totals(), "cases": self.total},
            "ops": {op: row for op, row in sorted(self.per_op().items())},
            "rows": [{"op": op, "dtype": dtype, **dict(facets), **row}
                     for (op, dtype, facets), row in sorted(self.rows.items())],
            "failures": [{"case": cid, "message": msg} for cid, msg in self.failures],
            "failures_total": len(self.failures),
            "skip_reasons": self.skip_reasons,
        }

    def write(self, out_dir, meta):
        out_dir.mkdir(parents=True, exist_ok=True)
        data = self.to_json(meta)
        json_path = out_dir / "conformance.json"
        json_path.write_text(json.dumps(data, indent=1, default=str) + "\n")
        md_path = out_dir / "conformance.md"
        md_path.write_text(render_markdown(data))
        return [md_path, json_path]


def _fmt_err(row):
    return f"{row['worst_ratio']:.2g} ({row['worst_abs']:.2g})"


def render_markdown(data):
    meta, backend = data["meta"], data["meta"].get("backend") or {}
    t = data["totals"]
    out = [
        f"# Conformance of `{meta['impl']}` against JAX",
        "",
        f"- reference: JAX {backend.get('jax_version', '?')}, backend **{backend.get('backend', '?')}**, "
        f"device {backend.get('device', '?')}, x64 {'on' if backend.get('x64') else 'off'}",
        f"- cases run: {t['cases']:,} of {meta['domain_cases']:,} in the domain; seed {meta['seed']}; "
        f"wall time {meta['wall_seconds']} s",
        f"- outcome: " + ", ".join(f"{t[o]:,} {o}" for o in OUTCOMES),
        f"- known divergences: `{meta['known_divergences_file']}`"
        + (f"; **{len(meta['stale_divergences'])} stale** (match no case): "
           + ", ".join(f"`{e['label']}`" for e in meta["stale_divergences"])
           if meta["stale_divergences"] else ""),
        "",
        "Worst error: the largest |got - expected| / allowed over every comparison of a case "
        "(values, gradients, Hessian-vector products; <= 1 passes), then the largest absolute error.",
        "",
        "## Per op",
        "",
        "| op | passed | failed | xfailed | skipped | worst error |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for op, row in data["ops"].items():
        out.append(f"| {op} | {row['passed']} | {row['failed']} | {row['xfailed']} | {row['skipped']} "
                   f"| {_fmt_err(row)} |")
    out += ["", "## Per op, dtype and facet", ""]
    counts = set(OUTCOMES) | {"op", "dtype", "worst_ratio", "worst_abs"}
    by_op = {}
    for row in data["rows"]:
        by_op.setdefault(row["op"], []).append(row)
    for op, rows in by_op.items():
        facet_names = sorted({k for row in rows for k in row if k not in counts})
        out += ["", f"### {op}", "",
                "| dtype | " + "".join(f"{k} | " for k in facet_names)
                + "passed | failed | xfailed | skipped | worst error |",
                "|---|" + "---|" * len(facet_names) + "---:|---:|---:|---:|---|"]
        for row in rows:
            out.append(f"| {row['dtype']} | " + "".join(f"{row.get(k, '-')} | " for k in facet_names)
                       + f"{row['passed']} | {row['failed']} | {row['xfailed']} | {row['skipped']} "
                       f"| {_fmt_err(row)} |")
    if data["failures"]:
        listed = data["failures"][:MAX_LISTED_FAILURES]
        out += ["", f"## Failures ({data['failures_total']:,}; first {len(listed)}, all in the JSON)", ""]
        out += [f"- `{f['case']}`: {f['message']}" for f in listed]
    if data["skip_reasons"]:
        out += ["", "## Skipped", ""]
        out += [f"- {n:,} cases: {reason}" for reason, n in data["skip_reasons"].items()]
    return "\n".join(out) + "\n"
