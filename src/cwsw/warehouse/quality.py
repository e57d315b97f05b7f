"""The data quality report of a load: per file, rows read, kept and rejected, and findings by
rule with located examples. The same summary feeds the CLI table, ``--json`` and the HTML page.

Findings come in two kinds: problems (``fatal``, ``record``, ``value``: a file, record or value
cwsw could not take as it is) and what was corrected to read a value (``information``: a UPN
in lower case, an ID written ``123.0``, a flag written ``true``...), which loses nothing but is
for the council to fix at source. Both are listed by rule with their count and examples; only
problems count as problems.

No values leave through here: a finding's value may be a UPN or a date of birth, so reports
carry the rule, field and location only (the value stays in the warehouse's ``load_finding``).
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from cwsw.formats.common import (
    NORMALISED_CHILD_ID,
    NORMALISED_CODE,
    NORMALISED_FLAG,
    NORMALISED_ID,
    NORMALISED_NUMBER,
    NORMALISED_UPN,
    NORMALISED_WHITE_SPACE,
)
from cwsw.formats.errors import Severity
from cwsw.warehouse.load import LoadResult

# The order findings are listed in: the worst first, what was corrected last.
LEVELS: tuple[Severity, ...] = ("fatal", "record", "value", "information")
CORRECTED: Severity = "information"


def file_summary(result: LoadResult) -> dict[str, Any]:
    """One file's outcome for people and scripts: counts and located findings, no values."""
    read = result.total_rows
    kept = read if result.status in ("loaded", "checked") else 0
    summary = result.findings
    examples = {
        rule: [
            # Child- and row-level findings are shown located, so they can be fixed at source.
            {"location": f.location, "field": f.field}
            for f in summary.examples(rule)
            if f.severity != "fatal"
        ]
        for rule in summary.counts
    }
    # By level, then the most frequent first (rules of equal count in order of first finding).
    order = sorted(
        summary.counts,
        key=lambda rule: (_level(summary.severity.get(rule)), -summary.counts[rule]),
    )
    by_level = {
        level: n
        for level in LEVELS
        if (n := sum(c for r, c in summary.counts.items() if summary.severity.get(r) == level))
    }
    return {
        "file": str(result.file),
        "format": result.format,
        "period": result.period,
        "status": result.status,
        "load_id": result.load_id,
        "rows": dict(result.rows),
        "rows_read": read,
        "rows_kept": kept,
        "rows_rejected": read - kept,
        "findings_by_rule": dict(summary.counts),
        # Problems (fatal, record, value) and what was corrected (information), counted apart.
        "findings_by_level": by_level,
        "problems": sum(n for level, n in by_level.items() if level != CORRECTED),
        "information": by_level.get(CORRECTED, 0),
        "findings": [
            {
                "rule": rule,
                "severity": summary.severity.get(rule),
                "count": summary.counts[rule],
                "examples": examples[rule],
            }
            for rule in order
        ],
        "superseded_loads": list(result.superseded),
        "message": result.message,
        "warnings": list(result.warnings),
    }


_RANK: dict[str, int] = {level: n for n, level in enumerate(LEVELS)}


def _level(severity: str | None) -> int:
    return _RANK.get(severity or "", 0)


# What each correction means, for the council (the rules of ``cwsw.formats.common`` and of the
# CIN census and SSDA903 readers).
CORRECTIONS = {
    NORMALISED_UPN: "a UPN written in lower case",
    NORMALISED_CHILD_ID: "an LA child ID written as a number (123.0) or in lower case",
    NORMALISED_ID: "a school's LAESTAB or URN written as a number (8801234.0)",
    NORMALISED_CODE: "a code written in the wrong case (k3 for K3)",
    NORMALISED_FLAG: "a yes/no written true/false or 1.0 where 1/0 is expected",
    NORMALISED_NUMBER: "a whole number written 136.0",
    NORMALISED_WHITE_SPACE: "spaces around a value",
    "normalised_date_format": "a date in another format than the return's",
    "normalised_postcode": "a postcode in lower case or with extra spaces",
}


def is_correction(rule: str) -> bool:
    """Whether ``rule`` says a value was read corrected (what the council fixes at source)."""
    return rule in CORRECTIONS or rule.startswith("normalised_")


def corrections(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The corrections of every file (information findings ``normalised_*``; not those
    saying how a file was read, such as its year's source), by rule: count, files, meaning."""
    by_rule: dict[str, dict[str, Any]] = {}
    for f in files:
        for r in f["findings"]:
            if r["severity"] != CORRECTED or not is_correction(r["rule"]):
                continue
            entry = by_rule.setdefault(
                r["rule"],
                {"rule": r["rule"], "meaning": CORRECTIONS.get(r["rule"], ""), "count": 0},
            )
            entry["count"] += r["count"]
            entry.setdefault("files", []).append(f["file"])
    return sorted(by_rule.values(), key=lambda e: (-e["count"], e["rule"]))


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cwsw data quality report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#0b0c0c}
table{border-collapse:collapse;margin:0 0 1.5rem}
th,td{border:1px solid #b1b4b6;padding:.3rem .6rem;text-align:left;vertical-align:top}
td.n{text-align:right}.failed{color:#d4351c;font-weight:bold}
</style></head><body>
<h1>Data quality report</h1>
<p>{{ files|length }} file(s); {{ loaded }} loaded, {{ failed }} failed{% if refused %},
{{ refused }} refused (each would replace a much bigger load){% endif %}.</p>
<table><thead><tr><th>file</th><th>format</th><th>period</th><th>status</th>
<th>rows read</th><th>kept</th><th>rejected</th><th>problems</th><th>information</th>
</tr></thead><tbody>
{% for f in files %}<tr><td>{{ f.file }}</td><td>{{ f.format or "" }}</td>
<td>{{ f.period or "" }}</td>
<td class="{{ 'failed' if f.status in ('failed', 'refused') else '' }}">
{{ f.status }}</td><td class="n">{{ "{:,}".format(f.rows_read) }}</td>
<td class="n">{{ "{:,}".format(f.rows_kept) }}</td>
<td class="n">{{ "{:,}".format(f.rows_rejected) }}</td>
<td class="n">{{ "{:,}".format(f.problems) }}</td>
<td class="n">{{ "{:,}".format(f.information) }}</td></tr>
{% endfor %}</tbody></table>
{% if corrected %}<h2>Corrected to read: fix at source</h2>
<p>Values cwsw read corrected (nothing was lost); the returns should carry them as the
standard writes them. Each is listed under its file, located, and stored as written in
the warehouse.</p>
<table><thead><tr><th>rule</th><th>what was corrected</th><th>count</th><th>files</th>
</tr></thead><tbody>
{% for c in corrected %}<tr><td>{{ c.rule }}</td><td>{{ c.meaning }}</td>
<td class="n">{{ "{:,}".format(c.count) }}</td><td class="n">{{ c.files|length }}</td></tr>
{% endfor %}</tbody></table>{% endif %}
{% for f in files if f.findings or f.message or f.warnings %}
<h2>{{ f.file }}</h2>
{% if f.message %}<p>{{ f.message }}</p>{% endif %}
{% for w in f.warnings %}<p>Warning: {{ w }}</p>{% endfor %}
{% set problems = f.findings|rejectattr("severity", "eq", "information")|list %}
{% set information = f.findings|selectattr("severity", "eq", "information")|list %}
{% for title, level_rows in [("Problems", problems),
  ("For information: corrected to read, or how the file was read", information)]
  if level_rows %}
<h3>{{ title }}</h3>
<table><thead><tr><th>rule</th><th>level</th><th>count</th>
<th>examples (location, field)</th></tr></thead><tbody>
{% for r in level_rows %}<tr><td>{{ r.rule }}</td><td>{{ r.severity }}</td>
<td class="n">{{ "{:,}".format(r.count) }}</td><td>{% for e in r.examples %}
{{ e.location }} {{ e.field }}<br>{% endfor %}</td></tr>{% endfor %}
</tbody></table>{% endfor %}
{% endfor %}
</body></html>
"""


def render_html(results: list[LoadResult]) -> str:
    """A self-contained HTML page (no scripts, no external assets)."""
    files = [file_summary(result) for result in results]
    template = Environment(autoescape=True).from_string(_PAGE)
    return template.render(
        files=files,
        loaded=sum(f["status"] == "loaded" for f in files),
        failed=sum(f["status"] == "failed" for f in files),
        refused=sum(f["status"] == "refused" for f in files),
        corrected=corrections(files),
    )
