"""What a reader reports: a fatal ``FormatError``, or ``Finding``s about records and values."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, NamedTuple

# fatal: the file is rejected; record: a record is suspect; value: one value was nulled.
Severity = Literal["fatal", "record", "value"]


class FormatError(Exception):
    """A file cwsw cannot read at all (not XML, wrong root, truncated, missing columns).

    Always names the file, and the line when it is known, so the user can find the fault.
    """

    def __init__(self, file: Path | str, message: str, line: int | None = None) -> None:
        self.file = str(file)
        self.message = message
        self.line = line
        where = f"{self.file}, line {line}" if line is not None else self.file
        super().__init__(f"{where}: {message}")


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
        counts, examples = self.counts, self._examples
        for seq, finding in enumerate(findings, start):
            rule = finding.rule
            counts[rule] = counts.get(rule, 0) + 1
            kept = examples.get(rule)
            if kept is None:
                self.severity[rule] = finding.severity
                examples[rule] = [(part, seq, finding)]
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
