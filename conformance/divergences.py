"""Draft a known-divergences file from a run's report: `python -m conformance.divergences
reports/conformance.json > conformance/known_divergences/<module>.toml`.

Failures are grouped by op and by the kind of their message (numbers and shapes left out), one
[[divergence]] entry per group listing its case ids; each reason starts as the message of the
group's first case, for a person to replace with the cause.
"""
import argparse
import json
import re
import sys


def failure_kind(message):
    """The message without the numbers, shapes and quoted values that vary from case to case."""
    first = message.split("  worst at", 1)[0].split("  seed ", 1)[0]
    first = re.sub(r"\(.*?\)|\[.*?\]|'.*?'|-?\d+(\.\d+)?(e[-+]?\d+)?", "_", first)
    return re.sub(r"\s+", " ", first).strip()[:120]


def draft(report):
    groups = {}
    for failure in report["failures"]:
        op = failure["case"].split("[", 1)[0]
        groups.setdefault((op, failure_kind(failure["message"])), []).append(failure)
    lines = [f"# Known divergences of {report['meta']['impl']}, drafted from a run of the suite.",
             "# Replace each reason with the cause; every listed case is a strict xfail.", ""]
    for (op, _), failures in sorted(groups.items()):
        example = failures[0]["message"].split("  worst at", 1)[0].replace('"', "'")[:200]
        lines.append("[[divergence]]")
        lines.append(f'reason = "{op}: {example}"')
        lines.append("cases = [")
        lines += [f'  "{f["case"]}",' for f in failures]
        lines += ["]", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", help="conformance.json written by --report-dir")
    args = parser.parse_args(argv)
    try:
        with open(args.report) as f:
            report = json.load(f)
        text = draft(report)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"cannot read {args.report} as a conformance report: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
