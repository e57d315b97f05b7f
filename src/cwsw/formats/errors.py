"""What a reader reports: a fatal ``FormatError``, or ``Finding``s about records and values;
and ``RereadInOneProcess``, the signal that a parallel read must be rolled back and repeated."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from cwsw.errors import UserError

# fatal: the file is rejected; record: a record is suspect; value: one value was nulled;
# information: how the file was read or what was corrected, for the user to know.
Severity = Literal["fatal", "record", "value", "information"]


class FormatError(UserError):
    """A file cwsw cannot read at all (not XML, wrong root, truncated, missing columns).

    Always names the file, and the line when it is known, so the user can find the fault.
    """

    def __init__(self, file: Path | str, message: str, line: int | None = None) -> None:
        self.file = str(file)
        self.message = message
        self.line = line
        where = f"{self.file}, line {line}" if line is not None else self.file
        super().__init__(f"{where}: {message}")


class RereadInOneProcess(Exception):
    """The parts of a file read in parallel did not fit together (a misleading cut, or a fault
    to be located as one process meets it): whatever they handed to a sink must be rolled
    back, and the file read again with ``workers=1``."""


class Finding(NamedTuple):
    """One data-quality observation, located precisely enough to fix it at source.

    A named tuple rather than a dataclass: a national file can hold millions, made, pickled
    between reading processes and stored, and a tuple is several times cheaper at each step.
    """

    file: str
    location: str  # XML element path and line, or CSV "row N" (the header is row 1)
    field: str
    value: str | None
    rule: str
    severity: Severity


EXAMPLES_PER_RULE = 5


class FindingSummary:
    """The findings of a read, counted by rule, with the first few of each kept as examples.

    A national file holds millions of findings: they go to the warehouse batch by batch and
    only this summary stays in memory. Examples are the first ``EXAMPLES_PER_RULE`` in file
    order, also when reading processes hand over parts of the file out of order (``part``).
    """

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.severity: dict[str, Severity] = {}
        self._examples: dict[str, list[tuple[int, int, Finding]]] = {}
        self._seen: dict[int, int] = {}  # findings added so far, per part

    def add(self, findings: list[Finding], part: int = 0) -> None:
        """Count ``findings``, the next of ``part`` (parts are numbered in file order)."""
        start = self._seen.get(part, 0)
        self._seen[part] = start + len(findings)
        counts = self.counts
        for seq, finding in enumerate(findings, start):
            rule = finding.rule
            counts[rule] = counts.get(rule, 0) + 1
            self._keep(part, seq, finding)

    def add_table(self, table: pa.Table, file: str, part: int = 0) -> None:
        """Count a batch of findings held as Arrow (:data:`FINDING_SCHEMA`), the next of
        ``part``: counted in C, and only the few rows that may become examples made into
        ``Finding``s (a national file holds millions)."""
        start = self._seen.get(part, 0)
        self._seen[part] = start + table.num_rows
        if table.num_rows == 0:
            return
        rules = table.column("rule")
        for entry in pc.value_counts(rules).to_pylist():
            rule, count = entry["values"], entry["counts"]
            self.counts[rule] = self.counts.get(rule, 0) + count
            kept = self._examples.get(rule)
            if kept is not None and len(kept) >= EXAMPLES_PER_RULE and (part, start) > kept[-1][:2]:
                continue  # every row of this batch comes after the examples already kept
            rows = pc.indices_nonzero(pc.equal(rules, rule)).slice(0, EXAMPLES_PER_RULE)
            for index in rows.to_pylist():
                self._keep(part, start + index, _finding_at(table, index, file))

    def _keep(self, part: int, seq: int, finding: Finding) -> None:
        """Keep ``finding`` as an example of its rule if it is among the first in file order."""
        rule = finding.rule
        kept = self._examples.get(rule)
        if kept is None:
            self.severity[rule] = finding.severity
            self._examples[rule] = [(part, seq, finding)]
        elif len(kept) < EXAMPLES_PER_RULE or (part, seq) < kept[-1][:2]:
            kept.append((part, seq, finding))
            kept.sort(key=lambda entry: entry[:2])
            del kept[EXAMPLES_PER_RULE:]

    @classmethod
    def of(cls, findings: list[Finding]) -> FindingSummary:
        summary = cls()
        summary.add(findings)
        return summary

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def examples(self, rule: str) -> list[Finding]:
        """The first findings of ``rule`` in file order."""
        return [entry[2] for entry in self._examples.get(rule, ())]

    def all_examples(self) -> list[Finding]:
        """Every rule's examples, rules in order of first appearance."""
        return [f for rule in self.counts for f in self.examples(rule)]

    def __bool__(self) -> bool:
        return bool(self.counts)

    def __repr__(self) -> str:
        return f"FindingSummary({self.counts!r})"


# A batch of findings as Arrow, for readers that find them a column at a time (the CIN
# census): the file is the read's, so it is not repeated on every row.
FINDING_SCHEMA = pa.schema(
    [
        ("severity", pa.string()),
        ("rule", pa.string()),
        ("field", pa.string()),
        ("location", pa.string()),
        ("value", pa.string()),
    ]
)


def findings_table(findings: list[Finding]) -> pa.Table:
    """``findings`` as a :data:`FINDING_SCHEMA` table."""
    return pa.Table.from_pydict(
        {
            "severity": [f.severity for f in findings],
            "rule": [f.rule for f in findings],
            "field": [f.field for f in findings],
            "location": [f.location for f in findings],
            "value": [f.value for f in findings],
        },
        schema=FINDING_SCHEMA,
    )


def findings_from_table(table: pa.Table, file: str) -> list[Finding]:
    """The rows of a :data:`FINDING_SCHEMA` table as ``Finding``s, in order."""
    columns = [table.column(name).to_pylist() for name in _FINDING_ORDER]
    return [Finding(file, *values) for values in zip(*columns, strict=True)]


# Finding's fields after ``file``, as the table names them.
_FINDING_ORDER = ("location", "field", "value", "rule", "severity")


def _finding_at(table: pa.Table, index: int, file: str) -> Finding:
    values = [table.column(name)[index].as_py() for name in _FINDING_ORDER]
    return Finding(file, *values)
