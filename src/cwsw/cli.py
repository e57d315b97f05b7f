"""The command line: one Typer app over the same functions the web app and the tests call.

Over 500 lines by design: one short function per command (options, progress bar, the one
call into the layer below, the printed result), kept in one file so ``cwsw --help`` and the
code read in the same order. Logic never lives here.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cwsw import pipeline
from cwsw.settings import SettingError, Settings, get_settings

if TYPE_CHECKING:
    from cwsw.warehouse.load import LoadResult

app = typer.Typer(
    help="cwsw: children with a social worker, visible in education data.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)
out = Console()


@app.callback()
def _check_settings() -> None:
    """Every command starts from readable settings: a bad value is one line, not a traceback."""
    try:
        settings = get_settings()
    except SettingError as error:
        console.print(f"[bold red]Error:[/] {error}", soft_wrap=True)
        raise typer.Exit(code=2) from None
    if settings.suppression_warning is not None:  # an unsafe threshold, explicitly allowed
        console.print(f"[bold yellow]Warning:[/] {settings.suppression_warning}", soft_wrap=True)


@contextmanager
def _progress() -> Iterator[Progress]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal and not get_settings().progress,
    ) as progress:
        yield progress


def _fail(message: str) -> typer.Exit:
    console.print(f"[bold red]Error:[/] {message}", soft_wrap=True)
    return typer.Exit(code=1)


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the local authority to")],
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes")] = 42,
    pupils: Annotated[int, typer.Option(help="Number of pupils on roll")] = 30_000,
    faults: Annotated[str, typer.Option(help="none, default or heavy")] = "default",
) -> None:
    """Generate a synthetic local authority's returns in their real formats."""
    from cwsw.synth import generate

    if faults not in ("none", "default", "heavy"):
        raise _fail(f"--faults must be none, default or heavy, not {faults!r}")
    with _progress() as progress:
        task = progress.add_task("Generating the synthetic local authority", total=1.0)

        def report(step: str, fraction: float) -> None:
            progress.update(task, completed=fraction, description=step)

        result = generate(out_dir, seed=seed, pupils=pupils, faults=faults, progress=report)
    out.print(f"Wrote {len(result.files)} files to {out_dir}")


def _result_dict(result: LoadResult) -> dict[str, object]:
    """A load result for people and scripts: counts and located findings by rule, no values."""
    from cwsw.warehouse.quality import file_summary

    return file_summary(result)


def _ingest(
    paths: list[Path], settings: Settings, check: bool, report_path: Path | None = None
) -> list[dict[str, object]]:
    from cwsw.warehouse import load
    from cwsw.warehouse.connection import Warehouse
    from cwsw.warehouse.quality import render_html

    with _progress() as progress:
        task = progress.add_task("Reading files", total=None)

        def report(description: str, done: int, total: int) -> None:
            progress.update(task, description=description, completed=done, total=total)

        if check:
            results = load.check(paths, progress=report)
        else:
            settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
            with Warehouse.open(settings.warehouse_path) as warehouse:
                results = load.ingest(warehouse, paths, progress=report)
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(render_html(results), encoding="utf-8")
    return [_result_dict(r) for r in results]


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of returns")],
    check: Annotated[bool, typer.Option("--check", help="Validate without loading")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the data quality report (HTML) here")
    ] = None,
) -> None:
    """Load returns and extracts into the warehouse (atomically, idempotently)."""
    from rich.markup import escape

    from cwsw.formats.errors import FormatError

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise _fail(f"no such file or folder: {', '.join(missing)}")
    try:
        results = _ingest(paths, get_settings(), check, report)
    except FormatError as error:
        raise _fail(str(error)) from None
    if as_json:
        out.print_json(json.dumps(results, default=str))
    else:
        table = Table("file", "format", "period", "status", "read", "kept", "rejected", "findings")
        rules = Table("file", "rule", "level", "count", "first located at")
        for r in results:
            findings = r["findings"]
            assert isinstance(findings, list)
            name = Path(str(r["file"])).name
            table.add_row(
                name,
                str(r["format"] or ""),
                str(r["period"] or ""),
                str(r["status"]),
                f"{r['rows_read']:,}",
                f"{r['rows_kept']:,}",
                f"{r['rows_rejected']:,}",
                f"{sum(f['count'] for f in findings):,}",
            )
            for f in findings:
                first = f["examples"][0] if f["examples"] else {}
                where = " ".join(filter(None, [first.get("location"), first.get("field")]))
                rules.add_row(name, f["rule"], f["severity"], f"{f['count']:,}", where)
        out.print(table)
        if rules.row_count:
            out.print(rules)
        for r in results:
            if r["message"] and r["status"] in ("failed", "skipped"):
                style = "bold red" if r["status"] == "failed" else "yellow"
                message = escape(str(r["message"]))
                console.print(
                    f"[{style}]{r['status']}:[/] {message}", highlight=False, soft_wrap=True
                )
    if report is not None:
        console.print(f"Data quality report: {report}")
    if any(r["status"] == "failed" for r in results):
        raise typer.Exit(code=1)


link_app = typer.Typer(
    help="Link social care children to pupils; review the uncertain pairs.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(link_app, name="link")


def _print_link_report(report: dict[str, object]) -> None:
    """The linkage quality report as tables (aggregates only: no names, dates or UPNs)."""
    summary = Table("measure", "value", title="Linkage")
    summary.add_row("children", f"{report['children']:,}")
    summary.add_row("linked to a pupil", f"{report['linked']:,}")
    for name, section in (("matched by", "by_method"), ("band", "bands")):
        values = report[section]
        assert isinstance(values, dict)
        for key, count in values.items():
            summary.add_row(f"{name} {key}", f"{count:,}")
    reasons = report["unmatched_reasons"]
    assert isinstance(reasons, dict)
    for reason, count in reasons.items():
        summary.add_row(f"not linked: {reason}", f"{count:,}")
    if "review_queue" in report:
        summary.add_row("pairs awaiting review", f"{report['review_queue']:,}")
    accuracy = report.get("accuracy")
    if isinstance(accuracy, dict):
        for key in ("precision", "recall", "f1"):
            summary.add_row(f"{key} against truth", f"{accuracy[key]:.4f}")
        summary.add_row(
            "false links / missed links",
            f"{accuracy['false_positives']:,} / {accuracy['false_negatives']:,}",
        )
    out.print(summary)
    rates = report["rates_by"]
    assert isinstance(rates, dict)
    for breakdown, rows in rates.items():
        table = Table(breakdown, "children", "linked", "rate", title=f"Link rate by {breakdown}")
        for row in rows:
            table.add_row(
                row["group"], f"{row['children']:,}", f"{row['linked']:,}", f"{row['rate']:.1%}"
            )
        out.print(table)


@link_app.callback()
def link(
    ctx: typer.Context,
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="A synthetic LA's truth/ folder: measure precision, recall"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Link social care children to pupils and print the linkage quality report."""
    if ctx.invoked_subcommand is not None:
        return
    from cwsw.linkage.report import build_report
    from cwsw.linkage.splink_engine import EngineError
    from cwsw.warehouse.connection import Warehouse

    if truth is not None and not (truth / "child_pupil.csv").is_file():
        raise _fail(f"{truth} has no child_pupil.csv: --truth takes a synthetic LA's truth/")
    settings = get_settings()
    with Warehouse.open(settings.warehouse_path) as warehouse:
        with _progress() as progress:
            progress.add_task("Linking children to pupils", total=None)
            try:
                pipeline.link(warehouse, settings)
            except EngineError as error:  # a setting the user can fix: a message, no traceback
                raise _fail(str(error)) from None
        report = build_report(
            warehouse, truth_dir=truth, decisions_path=settings.linkage_decisions_path
        )
    if as_json:
        out.print_json(json.dumps(report, default=str))
    else:
        _print_link_report(report)


@link_app.command("review")
def link_review(
    as_json: Annotated[bool, typer.Option("--json", help="Print the queue as JSON")] = False,
) -> None:
    """List the pairs awaiting a decision, with the evidence side by side."""
    from cwsw.linkage import review
    from cwsw.warehouse.connection import Warehouse

    settings = get_settings()
    with Warehouse.open(settings.warehouse_path, read_only=True) as warehouse:
        if review.REVIEW_TABLE not in warehouse.ibis.list_tables():
            raise _fail("no linkage has been run: run `cwsw link` first")
        candidates = warehouse.ibis.table(review.REVIEW_TABLE).execute().to_dict("records")
    pending = review.queue(candidates, settings.linkage_decisions_path)
    if as_json:
        out.print_json(json.dumps(pending, default=str))
        return
    table = Table(
        "child", "pupil UPN", "band", "probability", "forename", "surname", "date of birth", "sex"
    )
    for c in pending:
        evidence = json.loads(c["evidence"])
        table.add_row(
            c["la_child_id"],
            c["upn"],
            c["band"].replace("_", " "),
            f"{c['match_probability']:.3f}",
            f"{c['child_forename']} / {c['pupil_forename']} ({evidence.get('forename')})",
            f"{c['child_surname']} / {c['pupil_surname']} ({evidence.get('surname')})",
            f"{c['child_birth_date']} / {c['pupil_birth_date']} ({evidence.get('birth_date')})",
            f"{c['child_sex']} / {c['pupil_sex']} ({evidence.get('sex')})",
        )
    out.print(table)
    out.print(f"{len(pending):,} pair(s) awaiting review: `cwsw link accept|reject CHILD UPN`")


def _decide(
    decision: str, child: str, upn: str, by: str | None, reason: str | None, change: bool
) -> None:
    import getpass

    from cwsw.linkage import review

    who = by or get_settings().user or getpass.getuser()
    try:
        made = review.decide(
            get_settings().linkage_decisions_path,
            child,
            upn,
            decision,
            who,
            reason=reason,
            change=change,
        )
    except review.DecisionError as error:
        raise _fail(str(error)) from None
    out.print(
        f"{made.decision}ed child {made.la_child_id} and pupil {made.upn} "
        f"({made.decided_by}, {made.decided_at}); applied on the next `cwsw link`"
    )


_CHILD = Annotated[str, typer.Argument(help="LA child ID")]
_UPN = Annotated[str, typer.Argument(help="The pupil's UPN")]
_BY = Annotated[str | None, typer.Option("--by", help="Who decides (default: the login name)")]
_REASON = Annotated[str | None, typer.Option("--reason", help="Why (kept in the audit log)")]
_CHANGE = Annotated[
    bool, typer.Option("--change", help="Change an earlier decision on this child or pupil")
]


@link_app.command("accept")
def link_accept(
    child: _CHILD, upn: _UPN, by: _BY = None, reason: _REASON = None, change: _CHANGE = False
) -> None:
    """Accept a pair: the child is this pupil (kept across every later run)."""
    _decide("accept", child, upn, by, reason, change)


@link_app.command("reject")
def link_reject(
    child: _CHILD, upn: _UPN, by: _BY = None, reason: _REASON = None, change: _CHANGE = False
) -> None:
    """Reject a pair: the child is not this pupil (never linked or asked again)."""
    _decide("reject", child, upn, by, reason, change)


@app.command()
def build(
    cohorts: Annotated[
        Path | None,
        typer.Option("--cohorts", help="TOML file naming more cohorts (docs/marts.md)"),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine", help="duckdb, postgres or spark (default: CWSW_BUILD_ENGINE, duckdb)"
        ),
    ] = None,
) -> None:
    """(Re)build the cohorts and measures marts."""
    from cwsw.cohort.definitions import DEFAULT_COHORTS, CohortConfigError, load_cohorts
    from cwsw.indicators.engines import EngineError, check_engine
    from cwsw.warehouse.connection import Warehouse

    settings = get_settings()
    try:
        specs = load_cohorts(cohorts) if cohorts is not None else DEFAULT_COHORTS
        chosen = check_engine(engine or settings.build_engine)
    except (CohortConfigError, EngineError) as error:
        raise _fail(str(error)) from None
    with Warehouse.open(settings.warehouse_path) as warehouse:
        try:
            rows = pipeline.build(
                warehouse,
                cohorts=specs,
                engine=chosen,
                engine_options=pipeline.build_engine_options(settings),
            )
        except (pipeline.NothingToBuild, EngineError) as error:
            raise _fail(str(error)) from None
    out.print(f"Built {rows} mart rows on {chosen}")


export_app = typer.Typer(help="Export figures (through disclosure control).")
app.add_typer(export_app, name="export")


@export_app.command("marts")
def export_marts(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for marts.csv and .parquet")],
) -> None:
    """Write the marts, suppressed, as CSV and Parquet (columns in docs/marts.md)."""
    from cwsw.indicators.export import export_marts as write
    from cwsw.warehouse.connection import Warehouse

    settings = get_settings()
    if not settings.warehouse_path.exists():
        raise _fail(f"no warehouse at {settings.warehouse_path}: run `cwsw ingest` first")
    with Warehouse.open(settings.warehouse_path, read_only=True) as warehouse:
        try:
            paths = write(warehouse, out_dir, threshold=settings.suppression_threshold)
        except LookupError as error:
            raise _fail(str(error)) from None
    for path in paths:
        out.print(f"Wrote {path.resolve()}")


@app.command()
def report(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the report")] = Path(
        "var/reports"
    ),
    period: Annotated[
        str | None,
        typer.Option(help="Academic year (2024/25) or term (2024/25 autumn term); default newest"),
    ] = None,
    formats: Annotated[
        str, typer.Option("--format", help="Any of html,pdf,xlsx,csv,parquet (comma-separated)")
    ] = "html,pdf,xlsx,csv,parquet",
    benchmarks: Annotated[
        Path | None,
        typer.Option(help="Folder of DfE's EES files (absence_la.csv, ks2_la.csv, ks4_la.csv)"),
    ] = None,
    la_code: Annotated[
        str | None, typer.Option(help="Old LA code, for the region and statistical neighbours")
    ] = None,
) -> None:
    """Write the Virtual School Head's report: HTML, PDF, Excel, CSV, Parquet (docs/reports.md)."""
    from cwsw.reports.writers import parse_formats
    from cwsw.warehouse.connection import Warehouse

    settings = get_settings()
    try:
        chosen = parse_formats(formats)
    except ValueError as error:
        raise _fail(str(error)) from None
    if la_code and benchmarks is None:
        raise _fail("--la-code needs --benchmarks (the folder of DfE's files to compare with)")
    if not settings.warehouse_path.exists():
        raise _fail(
            f"no marts have been built (no warehouse at {settings.warehouse_path}): "
            "run `cwsw ingest`, then run `cwsw build` first"
        )
    with Warehouse.open(settings.warehouse_path, read_only=True) as warehouse:
        try:
            paths = pipeline.report(
                warehouse,
                out_dir,
                settings.suppression_threshold,
                period=period,
                formats=chosen,
                benchmarks=benchmarks,
                la_code=la_code,
            )
        except (pipeline.NothingToBuild, FileNotFoundError) as error:
            raise _fail(str(error)) from None
    for path in paths.values():
        out.print(f"Report: {path.resolve()}")


def _prepare_web() -> list[tuple[str, str, str]]:
    """Migrate the application database and (re)create the demo users."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cwsw.web.settings")
    import django

    django.setup()
    from cwsw.web.accounts.services import create_demo_users
    from cwsw.web.server import migrate

    migrate()
    return create_demo_users()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
) -> None:
    """Start the web application."""
    from cwsw.web.server import run

    run(host, port)


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed of the synthetic local authority")] = 42,
    pupils: Annotated[int, typer.Option(help="Pupils in the synthetic local authority")] = 30_000,
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo keeps its state")] = Path(
        "var/demo"
    ),
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the web app at the end")
    ] = True,
    port: Annotated[int, typer.Option(help="Port for the web app")] = 8000,
) -> None:
    """The whole job on a synthetic local authority: generate, load, link, build, report, serve."""
    from cwsw.synth import generate
    from cwsw.warehouse import load
    from cwsw.warehouse.connection import Warehouse

    directory = directory.resolve()
    os.environ["CWSW_HOME"] = str(directory)
    # The demo's accounts sign in with a password alone, unless the caller set the variable;
    # the sign-in page then says the second factor is off, for demonstration only (ADR 0015).
    os.environ.setdefault("CWSW_REQUIRE_TOTP_FOR_CHILD_LEVEL", "0")
    settings = get_settings()
    data_dir = directory / "la"
    timings: dict[str, float] = {}
    started = time.perf_counter()
    # A fresh warehouse every time: the demo shows the pipeline from raw files.
    if directory.exists():
        for stale in (data_dir, settings.warehouse_path):
            if stale.is_dir():
                shutil.rmtree(stale)
            elif stale.exists():
                stale.unlink()
    with _progress() as progress:
        task = progress.add_task("Generating the synthetic local authority", total=1.0)

        def on_synth(step: str, fraction: float) -> None:
            progress.update(task, completed=fraction, description=step)

        generate(data_dir, seed=seed, pupils=pupils, faults="default", progress=on_synth)
        timings["synth"] = time.perf_counter() - started
        load_task = progress.add_task("Loading returns", total=None)

        def on_load(description: str, done: int, total: int) -> None:
            progress.update(load_task, description=description, completed=done, total=total)

        with Warehouse.open(settings.warehouse_path) as warehouse:
            results = load.ingest(warehouse, [data_dir], progress=on_load)
            failed = [r for r in results if r.status == "failed"]
            if failed:
                raise _fail(f"{len(failed)} file(s) failed to load: {failed[0].file}")
            timings["ingest"] = time.perf_counter() - started - sum(timings.values())
            linked = pipeline.link(warehouse)
            pipeline.build(warehouse)
            report_path = pipeline.report(
                warehouse, directory / "reports", settings.suppression_threshold
            )["html"]
            timings["link, build, report"] = time.perf_counter() - started - sum(timings.values())
    users = _prepare_web()
    url = f"http://127.0.0.1:{port}/"
    out.print(f"Linked {linked.linked:,} of {linked.children:,} social care children to pupils.")
    out.print("Timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    out.print(f"Report: {report_path}")
    out.print(f"Web app: {url}")
    if not settings.require_totp_for_child_level:
        out.print("Second factor: off for this demo (CWSW_REQUIRE_TOTP_FOR_CHILD_LEVEL=0)")
    for username, password, role in users:
        out.print(f"Log in as {username} / {password} ({role})")
    sys.stdout.flush()
    if serve_after:
        from cwsw.web.server import run

        run("127.0.0.1", port)


if __name__ == "__main__":
    app()
