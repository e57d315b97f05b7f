"""The review queue and the human decisions on it.

A decision is about a pair of stable identifiers, the LA child ID and the pupil's UPN, never a
load ID, so it still means the same pair after the warehouse is rebuilt from raw files. The
decisions live in their own SQLite file (``Settings.linkage_decisions_path``), outside the
tables a run rebuilds: an append-only log in which every row says who decided, when and why.
The current decision on a pair is its newest row; changing one takes an explicit ``change``
(so a decision is never silently overridden), and a pair already decided is never queued again.

The CLI calls these functions now; the web page will call the same ones (ADR 0004).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cwsw.domain.upn import clean_upn, normalise_id
from cwsw.errors import UserError

ACCEPT = "accept"
REJECT = "reject"
DECISIONS = (ACCEPT, REJECT)
REVIEW_TABLE = "linkage_review_candidate"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS linkage_decision (
    decision_id INTEGER PRIMARY KEY AUTOINCREMENT,
    la_child_id TEXT NOT NULL,
    upn TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('accept', 'reject')),
    decided_by TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    reason TEXT,
    replaces INTEGER REFERENCES linkage_decision (decision_id)
);
CREATE INDEX IF NOT EXISTS linkage_decision_pair ON linkage_decision (la_child_id, upn);
"""


class DecisionError(UserError, ValueError):
    """A decision that cannot be recorded as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Decision:
    decision_id: int
    la_child_id: str
    upn: str
    decision: str
    decided_by: str
    decided_at: str
    reason: str | None
    replaces: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextmanager
def _store(path: Path) -> Iterator[sqlite3.Connection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as con:
        con.executescript(_SCHEMA)
        yield con


def _rows(con: sqlite3.Connection, where: str = "", params: tuple[Any, ...] = ()) -> list[Decision]:
    cursor = con.execute(
        "SELECT decision_id, la_child_id, upn, decision, decided_by, decided_at, reason, replaces"
        f" FROM linkage_decision {where} ORDER BY decision_id",
        params,
    )
    return [Decision(*row) for row in cursor.fetchall()]


def _current(con: sqlite3.Connection) -> list[Decision]:
    latest = _rows(
        con,
        "WHERE decision_id IN (SELECT max(decision_id) FROM linkage_decision "
        "GROUP BY la_child_id, upn)",
    )
    return latest


def current_decisions(path: Path) -> list[Decision]:
    """The decision in force on every pair that has one (the newest row per pair)."""
    if not path.exists():
        return []
    with _store(path) as con:
        return _current(con)


def history(path: Path) -> list[Decision]:
    """Every decision ever recorded, oldest first (the audit trail)."""
    if not path.exists():
        return []
    with _store(path) as con:
        return _rows(con)


def decide(
    path: Path,
    la_child_id: str,
    upn: str,
    decision: str,
    decided_by: str,
    *,
    reason: str | None = None,
    change: bool = False,
    now: dt.datetime | None = None,
) -> Decision:
    """Record ``decision`` (accept or reject) on the pair, audited with who and when.

    Deciding a pair again the same way changes nothing and returns the decision in force.
    Deciding it the other way, accepting a second pupil for a child, or accepting a pupil
    already accepted for another child raises ``DecisionError`` unless ``change`` is given
    (then the new row records the one it replaces; a conflicting acceptance is rejected by it).
    """
    if decision not in DECISIONS:
        raise DecisionError(f"a decision is accept or reject, not {decision!r}")
    child = normalise_id(la_child_id)
    if child is None:
        raise DecisionError("an LA child ID is needed")
    pupil = clean_upn(upn)
    if pupil is None:
        raise DecisionError(f"{upn!r} is not a valid UPN")
    who = decided_by.strip()
    if not who:
        raise DecisionError("say who decided (--by)")
    when = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
    with _store(path) as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            current = _current(con)
            same = [d for d in current if d.la_child_id == child and d.upn == pupil]
            if same and same[0].decision == decision:
                con.execute("COMMIT")
                return same[0]
            if same and not change:
                previous = same[0]
                raise DecisionError(
                    f"child {child} and pupil {pupil} were already {previous.decision}ed by "
                    f"{previous.decided_by} at {previous.decided_at}; pass --change to change it"
                )
            conflicts = []
            if decision == ACCEPT:
                conflicts = [
                    d
                    for d in current
                    if d.decision == ACCEPT
                    and (d.la_child_id == child) != (d.upn == pupil)
                    and (d.la_child_id == child or d.upn == pupil)
                ]
                if conflicts and not change:
                    other = conflicts[0]
                    raise DecisionError(
                        f"child {other.la_child_id} and pupil {other.upn} were accepted by "
                        f"{other.decided_by} at {other.decided_at}: one child to one pupil; "
                        "pass --change to reject that pair and accept this one"
                    )
            for other in conflicts:
                con.execute(
                    "INSERT INTO linkage_decision (la_child_id, upn, decision, decided_by, "
                    "decided_at, reason, replaces) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        other.la_child_id,
                        other.upn,
                        REJECT,
                        who,
                        when,
                        f"replaced by the acceptance of {child} and {pupil}",
                        other.decision_id,
                    ),
                )
            cursor = con.execute(
                "INSERT INTO linkage_decision (la_child_id, upn, decision, decided_by, "
                "decided_at, reason, replaces) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (child, pupil, decision, who, when, reason, same[0].decision_id if same else None),
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        new_id = cursor.lastrowid
        assert new_id is not None
        return _rows(con, "WHERE decision_id = ?", (new_id,))[0]


def queue(candidates: list[dict[str, Any]], path: Path) -> list[dict[str, Any]]:
    """The review queue: candidate pairs (rows of ``linkage_review_candidate``) that have no
    decision yet, in the order a reviewer should take them (closest calls first)."""
    decided = {(d.la_child_id, d.upn) for d in current_decisions(path)}
    open_pairs = [c for c in candidates if (c["la_child_id"], c["upn"]) not in decided]
    return sorted(open_pairs, key=lambda c: (c["la_child_id"], -float(c["match_weight"]), c["upn"]))
