"""The data quality report of a load: per file, rows read, kept and rejected, and findings by
rule with located examples. The same summary feeds the CLI table, ``--json`` and the HTML page.

No values leave through here: a finding's value may be a UPN or a date of birth, so reports
carry the rule, field and location only (the value stays in the warehouse's ``load_finding``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from jinja2 import Environment

from cwsw.warehouse.load import LoadResult


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
    by_rule = Counter(summary.counts)
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
        "findings_by_rule": dict(by_rule),
        "findings": [
            {
                "rule": rule,
                "severity": summary.severity[rule],
                "count": count,
                "examples": examples[rule],
            }
            for rule, count in by_rule.most_common()
        ],
        "superseded_loads": list(result.superseded),
        "message": result.message,
    }


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cwsw data quality report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#0b0c0c}
table{border-collapse:collapse;margin:0 0 1.5rem}
th,td{border:1px solid #b1b4b6;padding:.3rem .6rem;text-align:left;vertical-align:top}
td.n{text-align:right}.failed{color:#d4351c;font-weight:bold}
</style></head><body>
<h1>Data quality report</h1>
<p>{{ files|length }} file(s); {{ loaded }} loaded, {{ failed }} failed.</p>
<table><thead><tr><th>file</th><th>format</th><th>period</th><th>status</th>
<th>rows read</th><th>kept</th><th>rejected</th><th>findings</th></tr></thead><tbody>
{% for f in files %}<tr><td>{{ f.file }}</td><td>{{ f.format or "" }}</td>
<td>{{ f.period or "" }}</td><td class="{{ 'failed' if f.status == 'failed' else '' }}">
{{ f.status }}</td><td class="n">{{ "{:,}".format(f.rows_read) }}</td>
<td class="n">{{ "{:,}".format(f.rows_kept) }}</td>
<td class="n">{{ "{:,}".format(f.rows_rejected) }}</td>
<td class="n">{{ "{:,}".format(f.findings_by_rule.values()|sum) }}</td></tr>
{% endfor %}</tbody></table>
{% for f in files if f.findings or f.message %}
<h2>{{ f.file }}</h2>
{% if f.message %}<p>{{ f.message }}</p>{% endif %}
{% if f.findings %}<table><thead><tr><th>rule</th><th>level</th><th>count</th>
<th>examples (location, field)</th></tr></thead><tbody>
{% for r in f.findings %}<tr><td>{{ r.rule }}</td><td>{{ r.severity }}</td>
<td class="n">{{ "{:,}".format(r.count) }}</td><td>{% for e in r.examples %}
{{ e.location }} {{ e.field }}<br>{% endfor %}</td></tr>{% endfor %}
</tbody></table>{% endif %}
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
    )
