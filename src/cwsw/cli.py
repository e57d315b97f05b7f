"""The command line: one Typer app over the same functions the web app and the tests call.

Over 500 lines by design: one short function per command (options, progress bar, the one
call into the layer below, the printed result), kept in one file so ``cwsw --help`` and the
code read in the same order. Logic never lives here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer._click.core import Context as ClickContext  # Typer 0.29 carries its own Click
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from cwsw.errors import UserError, cannot_write, writable_file, writable_folder
from cwsw.settings import Settings, get_settings

if TYPE_CHECKING:
    from cwsw import pipeline
    from cwsw.warehouse.load import LoadResult
else:

    class _Pipeline:
        """``cwsw.pipeline``, imported when a command first uses it: it brings in DuckDB, Ibis
        and Splink (a second), which ``--help`` does not need, and Ctrl-C during an import
        could not be handled as one line."""

        def __getattr__(self, name: str) -> Any:
            from cwsw import pipeline

            return getattr(pipeline, name)

    pipeline = _Pipeline()

# The order of the steps, as the help says it; each step says which one comes before it.
PIPELINE = "synth (or your own returns) → ingest → link → build → report, export marts, serve"
# cwsw.synth.generate refuses fewer: below it, the groups hold too few children to show.
MIN_PUPILS = 100
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
INTERRUPTED = (
    "Interrupted: the warehouse is as it was before the load, link or build that was running "
    "(each is all or nothing; files loaded before it stay loaded)"
)
_interrupted = threading.Event()


class _Commands(TyperGroup):
    """cwsw's commands, with the one handler of what a user can cause.

    An error the user can fix (:class:`cwsw.errors.UserError`, a bad option, an output that
    cannot be written) ends the command as one line ``Error: ...`` and its exit code; Ctrl-C
    as one line and exit code 130, whatever was running (a load, a DuckDB query, Splink).
    Anything else is a bug in cwsw and keeps its traceback.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        except SystemExit as done:  # also Ctrl-C before a command ran, which Typer ends quietly
            if done.code == EXIT_INTERRUPTED:
                console.print(INTERRUPTED, soft_wrap=True, highlight=False)
            raise

    def invoke(self, ctx: ClickContext) -> Any:
        restore = _note_interrupts()
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, SystemExit, NoArgsIsHelpError):
            raise
        except UsageError as error:
            command = error.ctx.command_path if error.ctx else ctx.command_path
            _error_line(f"{error.format_message().rstrip('.')}. See `{command} --help`.")
            raise typer.Exit(code=error.exit_code) from None
        except BaseException as error:
            if _interrupted.is_set() or _caused_by_interrupt(error):
                raise typer.Exit(code=EXIT_INTERRUPTED) from None  # told by ``main``
            found = error if isinstance(error, UserError) else _unwritable(error)
            if found is None:
                raise
            _error_line(str(found))
            raise typer.Exit(code=found.exit_code) from None
        finally:
            restore()


def _error_line(message: str) -> None:
    """``Error: message`` on one line of standard error (messages carry no personal data)."""
    text = escape(" ".join(message.split()))
    console.print(f"[bold red]Error:[/] {text}", soft_wrap=True, highlight=False)


def _unwritable(error: BaseException) -> UserError | None:
    """An output the user named that cannot be written (read-only, a file in the way, a full
    disk), met after the checks made before the work."""
    if isinstance(error, OSError) and error.filename is not None:
        return cannot_write(str(error.filename), error)
    return None


def _caused_by_interrupt(error: BaseException) -> bool:
    """Whether Ctrl-C is behind ``error``: a stage below (Splink, a DuckDB query) may report
    it as its own error, with a page of SQL."""
    connection = sys.modules.get("cwsw.warehouse.connection")  # no DuckDB error without it
    interrupts = connection.INTERRUPTS if connection is not None else (KeyboardInterrupt,)
    seen: set[int] = set()
    found: BaseException | None = error
    while found is not None and id(found) not in seen:
        if isinstance(found, interrupts):
            return True
        seen.add(id(found))
        found = found.__cause__ or found.__context__
    return False


def _note_interrupts() -> Callable[[], None]:
    """Note Ctrl-C before raising ``KeyboardInterrupt`` as Python does, so that an interrupt a
    stage reports as a failure (a file "failed", a query "interrupted") still ends the command
    as interrupted. Returns what puts the previous handler back."""
    _interrupted.clear()
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return lambda: None  # ignored (a background job), or the caller's own

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        _interrupted.set()
        raise KeyboardInterrupt

    def restore() -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, on_interrupt)
    return restore


def _stop_if_interrupted() -> None:
    """End here if Ctrl-C was pressed while a stage below carried on (between two files)."""
    if _interrupted.is_set():
        raise KeyboardInterrupt


app = typer.Typer(
    cls=_Commands,
    help=(
        "cwsw: children with a social worker, visible in education data.\n\n"
        f"The steps, in order: {PIPELINE}. Each command says what must run before it; "
        "`cwsw demo` runs them all on a synthetic local authority."
    ),
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)
out = Console()


@app.callback()
def _check_settings() -> None:
    """Every command starts from readable settings: a bad value is one line, not a traceback."""
    settings = get_settings()  # a SettingError is one line (exit code 1)
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


def _fail(message: str) -> UserError:
    """An error the user can fix, to raise: ``_Commands`` shows it as one line, exit code 1."""
    return UserError(message)


def _existing_warehouse(settings: Settings, step: str = "run `cwsw ingest` first") -> None:
    """Refuse a step that needs a warehouse when there is none (and do not create one)."""
    if not settings.warehouse_path.exists():
        raise _fail(f"no warehouse at {settings.warehouse_path}: {step}")


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the local authority to")],
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes")] = 42,
    pupils: Annotated[
        int, typer.Option(help=f"Number of pupils on roll (at least {MIN_PUPILS:,})")
    ] = 30_000,
    faults: Annotated[str, typer.Option(help="none, default or heavy")] = "default",
    no_next_school: Annotated[
        float | None,
        typer.Option(
            "--no-next-school",
            help="Share of pupils who leave a school in the year and join no other (listed in "
            "truth/no_next_school.csv); default 0.005",
        ),
    ] = None,
) -> None:
    """Step 1, to try cwsw: write a synthetic local authority's returns in their real formats.

    Next, `cwsw ingest` the folder.
    """
    from cwsw.synth import generate
    from cwsw.synth.education import DEFAULT_NO_NEXT_SCHOOL_RATE

    if faults not in ("none", "default", "heavy"):
        raise _fail(f"--faults must be none, default or heavy, not {faults!r}")
    if no_next_school is not None and not 0 <= no_next_school <= 1:
        raise _fail(f"--no-next-school must be between 0 and 1, not {no_next_school}")
    if pupils < MIN_PUPILS:
        raise _fail(f"--pupils must be at least {MIN_PUPILS:,}, not {pupils:,}")
    writable_folder(out_dir, "--out")
    with _progress() as progress:
        task = progress.add_task("Generating the synthetic local authority", total=1.0)

        def report(step: str, fraction: float) -> None:
            progress.update(task, completed=fraction, description=step)

        rate = DEFAULT_NO_NEXT_SCHOOL_RATE if no_next_school is None else no_next_school
        result = generate(
            out_dir,
            seed=seed,
            pupils=pupils,
            faults=faults,
            no_next_school_rate=rate,
            progress=report,
        )
    out.print(f"Wrote {len(result.files)} files to {out_dir}")


def _result_dict(result: LoadResult) -> dict[str, object]:
    """A load result for people and scripts: counts and located findings by rule, no values."""
    from cwsw.warehouse.quality import file_summary

    return file_summary(result)


def _ingest(
    paths: list[Path],
    settings: Settings,
    check: bool,
    encoding: str | None = None,
    replace: bool = False,
    year: int | None = None,
) -> list[LoadResult]:
    from cwsw.warehouse import load
    from cwsw.warehouse.connection import Warehouse

    with _progress() as progress:
        task = progress.add_task("Reading files", total=None)

        def report(description: str, done: int, total: int) -> None:
            _stop_if_interrupted()  # a load interrupted in DuckDB is reported as failed
            progress.update(task, description=description, completed=done, total=total)

        if check:  # compared with the warehouse, to say what a load would supersede
            with load.foreseeing(settings.warehouse_path) as (known, why_not):
                if why_not:
                    console.print(f"[yellow]Warning:[/] {escape(why_not)}", soft_wrap=True)
                results = load.check(
                    paths,
                    progress=report,
                    encoding=encoding,
                    warehouse=known,
                    replace=replace,
                    year=year,
                )
        else:
            with Warehouse.open(settings.warehouse_path) as warehouse:
                results = load.ingest(
                    warehouse, paths, progress=report, encoding=encoding, replace=replace, year=year
                )
    _stop_if_interrupted()
    return results


def _display_names(files: list[str]) -> dict[str, str]:
    """Each file as the fewest last parts of its path that tell it from the others in the
    run (two folders of SSDA903 tables both hold a ``header.csv``)."""
    from collections import Counter

    parts = {file: Path(file).parts for file in files}
    names: dict[str, str] = {}
    for depth in range(1, max((len(p) for p in parts.values()), default=0) + 1):
        ends = Counter(path[-depth:] for path in parts.values())
        for file, path in parts.items():
            if file not in names and (ends[path[-depth:]] == 1 or depth >= len(path)):
                names[file] = str(Path(*path[-depth:]))
    return names


def _csv_encoding(encoding: str | None) -> str | None:
    """``--encoding`` checked before any file is read."""
    from cwsw.formats.common import csv_codec

    if encoding is not None:
        try:
            csv_codec(encoding)
        except (LookupError, ValueError):
            raise _fail(
                f"--encoding {encoding!r} is not an encoding cwsw reads CSV files in: use "
                "utf-8 (the default), cp1252 (Excel on Windows) or latin-1"
            ) from None
    return encoding


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of returns")],
    check: Annotated[bool, typer.Option("--check", help="Validate without loading")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the data quality report (HTML) here")
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            help="Encoding of the CSV files (default utf-8, with or without a byte order "
            "mark; cp1252 for files saved by Excel on Windows). XML files say their own",
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Let a file replace an earlier load of its dataset and period even when it "
            "holds no rows or far fewer (CWSW_SUPERSEDE_MIN_RATIO); refused otherwise",
        ),
    ] = False,
    year: Annotated[
        int | None,
        typer.Option(
            "--year",
            min=2000,
            max=2100,
            help="Collection year (the year ending 31 March: 2025 for 2024/25) of SSDA903 files "
            "whose folder or name carries none (e.g. ssda903/2025/, SSDA903_2025_header.csv); "
            "without it such a file takes the year of its latest episode start (DECOM)",
        ),
    ] = None,
) -> None:
    """Step 2: load returns and extracts into the warehouse (atomically, idempotently).

    After `cwsw synth`, or with the local authority's own files; next, `cwsw link`.
    """
    from cwsw.warehouse.quality import render_html

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise _fail(f"no such file or folder: {', '.join(missing)}")
    _csv_encoding(encoding)
    if report is not None:  # before the load, not after it has been saved
        writable_file(report, "--report")
    loaded = _ingest(paths, get_settings(), check, encoding, replace, year)
    results = [_result_dict(r) for r in loaded]
    if as_json:
        out.print_json(json.dumps(results, default=str))
    else:
        table = Table(
            "file",
            "format",
            "period",
            "status",
            "read",
            "kept",
            "rejected",
            "problems",
            "corrected",
        )
        rules = Table("file", "rule", "level", "count", "first located at")
        for summary in (table, rules):  # a path folds onto a second line, never cut short
            summary.columns[0].overflow = "fold"
        names = _display_names([str(r["file"]) for r in results])
        for r in results:
            findings = r["findings"]
            assert isinstance(findings, list)
            name = names[str(r["file"])]
            table.add_row(
                name,
                str(r["format"] or ""),
                str(r["period"] or ""),
                str(r["status"]),
                f"{r['rows_read']:,}",
                f"{r['rows_kept']:,}",
                f"{r['rows_rejected']:,}",
                f"{r['problems']:,}",  # information findings (values corrected) apart
                f"{r['information']:,}",
            )
            for f in findings:
                first = f["examples"][0] if f["examples"] else {}
                where = " ".join(filter(None, [first.get("location"), first.get("field")]))
                rules.add_row(name, f["rule"], f["severity"], f"{f['count']:,}", where)
        out.print(table)
        if rules.row_count:
            out.print(rules)
        for r in results:
            if r["message"] and r["status"] in ("failed", "skipped", "refused"):
                style = "yellow" if r["status"] == "skipped" else "bold red"
                message = escape(str(r["message"]))
                console.print(
                    f"[{style}]{r['status']}:[/] {message}", highlight=False, soft_wrap=True
                )
            elif r["message"]:  # what a load superseded (or, checking, would supersede)
                message = escape(f"{names[str(r['file'])]}: {r['message']}")
                console.print(message, highlight=False, soft_wrap=True)
            warnings = r["warnings"]
            assert isinstance(warnings, list)
            for warning in warnings:
                console.print(
                    f"[yellow]Warning:[/] {escape(warning)}", highlight=False, soft_wrap=True
                )
    if report is not None:  # after the summary, which a failure here must not hide
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(render_html(loaded), encoding="utf-8")
        console.print(f"Data quality report: {report}")
    if any(r["status"] in ("failed", "refused") for r in results):
        raise typer.Exit(code=1)
    if all(r["status"] == "skipped" for r in results):  # a folder that loads nothing fails
        given = ", ".join(str(p) for p in paths)
        found = f"{len(results)} file(s) skipped" if results else "no files found"
        raise _fail(
            f"nothing to load in {given}: {found}, none a return cwsw reads "
            "(docs/data-contracts.md §1 lists them)"
        )


link_app = typer.Typer(
    help="Step 3: link social care children to pupils (after ingest); review uncertain pairs.",
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
    """Step 3: link social care children to pupils and print the linkage quality report.

    After `cwsw ingest`; next, `cwsw build`.
    """
    if ctx.invoked_subcommand is not None:
        return
    from cwsw.linkage.report import build_report
    from cwsw.warehouse.connection import Warehouse

    if truth is not None and not (truth / "child_pupil.csv").is_file():
        raise _fail(f"{truth} has no child_pupil.csv: --truth takes a synthetic LA's truth/")
    settings = get_settings()
    _existing_warehouse(settings)
    with Warehouse.open(settings.warehouse_path) as warehouse:
        with _progress() as progress:
            progress.add_task("Linking children to pupils", total=None)
            linked = pipeline.link(warehouse, settings)  # an engine setting's error is one line
        for gap in linked.gaps:  # linked from what is there; the user is told what is not
            console.print(f"[yellow]Warning:[/] gap in the returns loaded: {escape(gap)}")
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
    """List the pairs awaiting a decision, with the evidence side by side (after `cwsw link`)."""
    from cwsw.linkage import review
    from cwsw.warehouse.connection import Warehouse

    settings = get_settings()
    _existing_warehouse(settings, "no linkage has been run: run `cwsw ingest`, then `cwsw link`")
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
        typer.Option(
            "--cohorts",
            help="TOML file naming more cohorts (docs/marts.md)",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine", help="duckdb, postgres or spark (default: CWSW_BUILD_ENGINE, duckdb)"
        ),
    ] = None,
    allow_incomplete: Annotated[
        bool,
        typer.Option(
            "--allow-incomplete",
            help="Build even when a return the cohorts need is missing (six CIN census years, "
            "the year before's SSDA903, the spring census); the outputs say which figures "
            "rest on incomplete data",
        ),
    ] = False,
) -> None:
    """Step 4: (re)build the cohorts and measures marts, after `cwsw link`.

    Next, `cwsw report`, `cwsw export marts` or `cwsw serve`.
    """
    from cwsw.cohort.definitions import DEFAULT_COHORTS, CohortConfigError, load_cohorts
    from cwsw.indicators.engines import EngineError, check_engine
    from cwsw.warehouse.connection import Warehouse

    settings = get_settings()
    try:
        specs = load_cohorts(cohorts) if cohorts is not None else DEFAULT_COHORTS
        chosen = check_engine(engine or settings.build_engine)
    except (CohortConfigError, EngineError) as error:
        raise _fail(str(error)) from None
    _existing_warehouse(settings)
    with Warehouse.open(settings.warehouse_path) as warehouse:
        try:
            rows = pipeline.build(
                warehouse,
                cohorts=specs,
                engine=chosen,
                engine_options=pipeline.build_engine_options(settings),
                allow_incomplete=allow_incomplete,
            )
        except (pipeline.NothingToBuild, EngineError) as error:
            raise _fail(str(error)) from None
        incomplete = (
            pipeline.missing_returns(warehouse, pipeline.reference_dates(warehouse), specs)
            if allow_incomplete
            else []
        )
    for gap in incomplete:
        console.print(f"[yellow]Warning:[/] {escape(gap.note())}", soft_wrap=True)
    out.print(f"Built {rows} mart rows on {chosen}")


@app.command()
def rate(
    rules: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            help="The LA's own rule file (TOML, docs/targeting.md); default: the shipped "
            "BANES-style rules. Checked in full before anything is rated",
        ),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option("--on", help="Rate on this date (YYYY-MM-DD); default: today"),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Also write each child's rating and reason here (CSV)"),
    ] = None,
) -> None:
    """Rate the need of every child with a social worker (red / amber / green), each rating
    with the rule that fired and the values that made it fire; kept as history in the
    warehouse (after `cwsw link`; rate again after each load)."""
    import datetime as dt

    from cwsw.linkage.run import CHILD_PUPIL_LINK
    from cwsw.targeting.history import rate_and_store
    from cwsw.warehouse.connection import Warehouse

    try:
        day = dt.date.fromisoformat(on) if on is not None else dt.date.today()
    except ValueError:
        raise _fail(f"--on {on!r} is not a date: give it as YYYY-MM-DD") from None
    if out_file is not None:
        writable_file(out_file, "--out")
    settings = get_settings()
    _existing_warehouse(settings, "run `cwsw ingest`, then `cwsw link`")
    with Warehouse.open(settings.warehouse_path) as warehouse:
        if CHILD_PUPIL_LINK not in warehouse.ibis.list_tables():
            raise _fail("no linkage has been run: run `cwsw link` first")
        run = rate_and_store(warehouse, day, rules)
    children = run.ratings.children
    table = Table("rating", "rule", "children")
    counts = (
        children.assign(rule=children["rule"].fillna("").astype(str))
        .groupby(["rating", "rule"], sort=False, dropna=False)
        .size()
        .reset_index(name="children")
    )
    order = {"red": 0, "amber": 1, "green": 2}
    counts["order"] = counts["rating"].map(order).fillna(3)
    for row in counts.sort_values(["order", "rule"], kind="stable").itertuples(index=False):
        table.add_row(str(row.rating), str(row.rule) or "(no rule fired)", f"{row.children:,}")
    out.print(
        f"Rated {len(children):,} children on {day.isoformat()} (this term: "
        f"{run.ratings.this_term}) by {run.ratings.rules.title}",
        highlight=False,
        soft_wrap=True,
    )
    out.print(table)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        children.to_csv(out_file, index=False, lineterminator="\n")
        out.print(f"Ratings: {out_file}", highlight=False, soft_wrap=True)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON")] = False,
) -> None:
    """Show which warehouse is in use, what is loaded by dataset and period, the gaps in each
    series, whether the links and marts are older than the newest load, and whether
    `cwsw build` would run. Reads only; any time."""
    settings = get_settings()
    found = pipeline.status(settings.warehouse_path)
    if as_json:
        out.print_json(json.dumps(found.as_dict(), default=str))
        return
    held = found.warehouse
    state = "" if held.exists else " (not created yet)"
    out.print(f"Warehouse: {escape(held.path)}{state}", highlight=False, soft_wrap=True)
    if held.loaded:
        table = Table("dataset", "period", "files", "rows", "children / pupils", "loaded (UTC)")
        for column in (0, 2):  # a long dataset or file name folds, never cut short
            table.columns[column].overflow = "fold"
        for entry in held.loaded:
            table.add_row(
                entry.dataset,
                entry.period or "",
                ", ".join(entry.files),
                f"{entry.rows:,}",
                f"{entry.people:,} {entry.unit}" if entry.people is not None else "",
                f"{entry.loaded_at:%Y-%m-%d %H:%M}" if entry.loaded_at else "",
            )
        out.print(table)
        if held.superseded:
            out.print(f"{held.superseded:,} earlier load(s) superseded by later files")
    elif held.exists:
        out.print("Nothing loaded: run `cwsw ingest`")
    for gap in held.gaps:
        out.print(f"Gap: {escape(gap.describe())}", highlight=False, soft_wrap=True)
    if held.exists and not held.gaps:
        out.print("Gaps: none")
    for stage in (held.links, held.marts):
        text = stage.describe()
        out.print(escape(text[0].upper() + text[1:]), highlight=False, soft_wrap=True)
    out.print(f"Build: {escape(found.build.describe())}", highlight=False, soft_wrap=True)


evaluate_app = typer.Typer(
    help="Evaluate what works: randomise schools, plan a trial's size, analyse a trial "
    "(docs/evaluation-*.md). Works on the evaluator's own CSV files.",
    no_args_is_help=True,
)
app.add_typer(evaluate_app, name="evaluate")


def _evaluation_table(path: Path) -> Any:
    """An evaluator's CSV file, read as given (numbers stay numbers)."""
    import pandas as pd

    if not path.is_file():
        raise _fail(f"no such file: {path}")
    try:
        return pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as error:
        raise _fail(f"{path} cannot be read as CSV: {error}") from None


@evaluate_app.command("randomise")
def evaluate_randomise(
    schools: Annotated[Path, typer.Argument(help="CSV of schools, one row each")],
    seed: Annotated[int, typer.Option("--seed", help="The seed, recorded in the allocation")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the allocation (CSV)")],
    school: Annotated[str, typer.Option(help="The school's column")] = "laestab",
    la: Annotated[str, typer.Option("--la", help="The local authority's column")] = "la_code",
    strata: Annotated[
        list[str] | None, typer.Option("--stratum", help="A further stratum column (repeatable)")
    ] = None,
) -> None:
    """Allocate schools to two arms, stratified within local authorities, reproducibly: the
    same file and seed give the same allocation, byte for byte."""
    from cwsw.evaluation.randomisation import randomise_schools, stratum_counts
    from cwsw.evaluation.randomisation import write_allocation_csv as write

    writable_file(out_file, "--out")
    allocation = randomise_schools(
        _evaluation_table(schools), seed=seed, school=school, la=la, strata=tuple(strata or ())
    )
    write(allocation, out_file)
    counts = stratum_counts(allocation)
    table = Table(*[str(c) for c in counts.columns])
    for row in counts.itertuples(index=False):
        table.add_row(*[str(v) for v in row])
    out.print(table)
    out.print(
        f"Allocation: {out_file} (seed {allocation.seed}, inputs {allocation.inputs_sha256[:12]})",
        highlight=False,
        soft_wrap=True,
    )


@evaluate_app.command("mdes")
def evaluate_mdes(
    clusters: Annotated[int, typer.Option(help="Schools in the trial (both arms)")],
    cluster_size: Annotated[float, typer.Option(help="Pupils per school (mean)")],
    icc: Annotated[float, typer.Option(help="Intra-cluster correlation of the outcome")],
    r2_pupil: Annotated[float, typer.Option(help="R² of pupil-level covariates")] = 0.0,
    r2_school: Annotated[float, typer.Option(help="R² of school-level covariates")] = 0.0,
    proportion_treated: Annotated[float, typer.Option(help="Share of schools treated")] = 0.5,
    power: Annotated[float, typer.Option(help="Power")] = 0.8,
    alpha: Annotated[float, typer.Option(help="Two-sided significance level")] = 0.05,
) -> None:
    """The minimum detectable effect size of a two-level cluster randomised trial (Bloom)."""
    from cwsw.evaluation.power import minimum_detectable_effect_size

    mdes = minimum_detectable_effect_size(
        clusters,
        cluster_size,
        icc,
        proportion_treated=proportion_treated,
        r2_level1=r2_pupil,
        r2_level2=r2_school,
        alpha=alpha,
        power=power,
    )
    out.print(
        f"Minimum detectable effect size: {mdes:.3f} standard deviations ({clusters} schools "
        f"of {cluster_size:g} pupils, ICC {icc:g}, power {power:g}, alpha {alpha:g})",
        highlight=False,
        soft_wrap=True,
    )


@evaluate_app.command("trial")
def evaluate_trial(
    data: Annotated[Path, typer.Argument(help="CSV of pupils: outcome, 0/1 intervention, ...")],
    design: Annotated[
        str, typer.Option(help="crt (cluster randomised), srt (simple) or mst (multisite)")
    ],
    outcome: Annotated[str, typer.Option(help="The outcome's column")],
    intervention: Annotated[str, typer.Option(help="The 0/1 intervention column")],
    cluster: Annotated[str | None, typer.Option(help="The school's column (crt, mst)")] = None,
    covariates: Annotated[
        list[str] | None, typer.Option("--covariate", help="A covariate column (repeatable)")
    ] = None,
) -> None:
    """Analyse a trial's continuous outcome as the EEF's eefAnalytics does (crtFREQ, srtFREQ,
    mstFREQ): coefficients, variance components, ICC and Hedges' g with 95% intervals."""
    from cwsw.evaluation import mixed_models

    frame = _evaluation_table(data)
    extra = tuple(covariates or ())
    if design == "srt":
        result = mixed_models.analyse_simple_randomised_trial(frame, outcome, intervention, extra)
    elif design in ("crt", "mst"):
        if cluster is None:
            raise _fail(f"--design {design} needs --cluster, the school's column")
        analyse = (
            mixed_models.analyse_cluster_randomised_trial
            if design == "crt"
            else mixed_models.analyse_multisite_trial
        )
        result = analyse(frame, outcome, intervention, cluster, extra)
    else:
        raise _fail(f"--design {design!r} is not one cwsw analyses: give crt, srt or mst")
    out.print(
        f"{result.design} trial: {result.pupils:,} pupils"
        + (f" in {result.schools:,} schools" if result.schools else "")
        + (
            f"; {result.rows_excluded:,} rows left out for a missing value"
            if result.rows_excluded
            else ""
        ),
        highlight=False,
    )
    coefficients = Table("coefficient", "estimate", "95% interval")
    for c in result.coefficients:
        coefficients.add_row(c.name, f"{c.estimate:.2f}", f"{c.lower:.2f} to {c.upper:.2f}")
    out.print(coefficients)
    effects = Table("effect size (Hedges' g)", "variance", "estimate", "95% interval")
    for label, sizes in (
        ("conditional", result.conditional_effect),
        ("unconditional", result.unconditional_effect),
    ):
        for variance, size in (("within", sizes.within), ("total", sizes.total)):
            if size is not None:
                effects.add_row(
                    label, variance, f"{size.estimate:.2f}", f"{size.lower:.2f} to {size.upper:.2f}"
                )
    out.print(effects)
    components = result.conditional_variance
    parts = [f"pupil {components.pupil:.2f}", f"total {components.total:.2f}"]
    if components.school is not None:
        parts.insert(0, f"school {components.school:.2f}")
    if components.icc is not None:
        parts.append(f"ICC {components.icc:.2f}")
    out.print(
        "Variance components (conditional): " + ", ".join(parts), highlight=False, soft_wrap=True
    )
    if result.singular_fit:
        out.print("Note: boundary (singular) fit: a school variance at zero", highlight=False)


export_app = typer.Typer(help="Step 5: export figures, through disclosure control (after build).")
app.add_typer(export_app, name="export")


@export_app.command("marts")
def export_marts(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for marts.csv and .parquet")],
) -> None:
    """Write the marts, suppressed, as CSV and Parquet (columns in docs/marts.md).

    After `cwsw build`.
    """
    from cwsw.indicators.export import export_marts as write
    from cwsw.warehouse.connection import Warehouse

    settings = get_settings()
    if not settings.warehouse_path.exists():
        raise _fail(f"no warehouse at {settings.warehouse_path}: run `cwsw ingest` first")
    with Warehouse.open(settings.warehouse_path, read_only=True) as warehouse:
        writable_folder(out_dir, "--out")
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
        typer.Option(
            help="Folder of DfE's EES files (absence_la.csv, ks2_la.csv, ks4_la.csv)",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    la_code: Annotated[
        str | None, typer.Option(help="Old LA code, for the region and statistical neighbours")
    ] = None,
) -> None:
    """Step 5: write the Virtual School Head's report (HTML, PDF, Excel, CSV, Parquet).

    After `cwsw build`; the contents are in docs/reports.md.
    """
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
        writable_folder(out_dir, "--out")
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
    """Step 5: start the web application, which shows what `cwsw build` last built."""
    from cwsw.web.server import run

    run(host, port)


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed of the synthetic local authority")] = 42,
    pupils: Annotated[
        int,
        typer.Option(help=f"Pupils in the synthetic local authority (at least {MIN_PUPILS:,})"),
    ] = 30_000,
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

    if pupils < MIN_PUPILS:
        raise _fail(f"--pupils must be at least {MIN_PUPILS:,}, not {pupils:,}")
    directory = writable_folder(directory.resolve(), "--dir")
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
