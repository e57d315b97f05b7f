"""Need ratings kept as history, and `cwsw rate` as an analyst drives it."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cwsw.cli import app
from cwsw.targeting.history import EVIDENCE_TABLE, RATING_TABLE, rate_and_store, rating_history
from cwsw.warehouse.connection import Warehouse
from tests.conftest import BuiltLA

runner = CliRunner()
ON = dt.date(2025, 3, 31)


@pytest.fixture
def warehouse_copy(built_la: BuiltLA, tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(built_la.warehouse_path, path)
    return path


def _stored(path: Path) -> pd.DataFrame:
    with Warehouse.open(path, read_only=True) as warehouse:
        return warehouse.ibis.table(RATING_TABLE).execute()


def test_a_run_is_kept_and_rating_again_on_the_same_date_replaces_it(warehouse_copy: Path) -> None:
    with Warehouse.open(warehouse_copy) as warehouse:
        first = rate_and_store(warehouse, ON)
        again = rate_and_store(warehouse, ON)
        later = rate_and_store(warehouse, dt.date(2025, 7, 1))
    stored = _stored(warehouse_copy)
    assert first.stored == again.stored == len(first.ratings.children) > 100
    # Two dates, one run each: the same-date run replaced, not doubled.
    assert stored.groupby("rated_on").size().tolist() == [first.stored, later.stored]
    assert set(stored.rating) <= {"red", "amber", "green"}
    red = stored[stored.rating == "red"]
    assert len(red) and (red.rule != "").all() and red.explanation.str.len().gt(0).all()
    # Every red or amber rating has its evidence beside it.
    with Warehouse.open(warehouse_copy, read_only=True) as warehouse:
        evidence = warehouse.ibis.table(EVIDENCE_TABLE).execute()
    decided = evidence[evidence.decided.astype(bool)]
    rated = stored[stored.rating != "green"]
    assert set(zip(rated.rated_on, rated.la_child_id, strict=True)) == set(
        zip(decided.rated_on, decided.la_child_id, strict=True)
    )


def test_a_childs_history_is_oldest_first(warehouse_copy: Path) -> None:
    with Warehouse.open(warehouse_copy) as warehouse:
        assert rating_history(warehouse, "anyone").empty  # never rated: no table yet
        rate_and_store(warehouse, dt.date(2025, 7, 1))
        run = rate_and_store(warehouse, ON)
        child = str(run.ratings.children.la_child_id.iloc[0])
        history = rating_history(warehouse, child)
    assert [d.isoformat() for d in pd.to_datetime(history.rated_on).dt.date] == [
        "2025-03-31",
        "2025-07-01",
    ]


def test_cwsw_rate_prints_each_rule_and_writes_the_reasons(
    warehouse_copy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ratings.csv"
    env = {"CWSW_HOME": str(tmp_path), "CWSW_WAREHOUSE": str(warehouse_copy)}
    result = runner.invoke(app, ["rate", "--on", ON.isoformat(), "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert f"Rated {len(written):,} children on 2025-03-31" in result.stdout
    for rating, rule in (
        written[written.rating != "green"][["rating", "rule"]]
        .drop_duplicates()
        .itertuples(index=False)
    ):
        assert rule in result.stdout and rating in result.stdout
    assert "(no rule fired)" in result.stdout


def test_cwsw_rate_refuses_in_one_line(warehouse_copy: Path, tmp_path: Path) -> None:
    env = {"CWSW_HOME": str(tmp_path), "CWSW_WAREHOUSE": str(warehouse_copy)}
    bad = tmp_path / "rules.toml"
    bad.write_text(
        '[red]\n[[red.rule]]\nname = "x"\nvalue = { measure = "nonsense", op = "<", value = 1 }\n',
        encoding="utf-8",
    )
    for args, says in (
        (["rate", "--on", "31/03/2025"], "is not a date"),
        (["rate", "--rules", str(bad)], f"rule file {bad}, line 4"),
    ):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 1, result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and says in lines[0], result.stderr
    before = _tables(warehouse_copy)
    assert RATING_TABLE not in before  # nothing rated by a refused run
    new_home = tmp_path / "new"
    result = runner.invoke(app, ["rate"], env={"CWSW_HOME": str(new_home)})
    assert result.exit_code == 1 and "run `cwsw ingest`, then `cwsw link`" in result.stderr


def _tables(path: Path) -> set[str]:
    with Warehouse.open(path, read_only=True) as warehouse:
        return set(warehouse.ibis.list_tables())
