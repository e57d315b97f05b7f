"""Stratified randomisation of schools within local authorities, reproducible from its seed.

The allocation, its seed and its method travel together: :func:`allocation_csv` writes them
into the CSV's header, so the file an evaluator archives says how to make it again. The same
schools, strata and seed give the same bytes in every process and on every machine with the
same numpy: inputs are put in a fixed order before anything is drawn, the draws come from a
numpy ``Generator`` on the PCG64 bit generator seeded with the seed, and nothing depends on
hash or dictionary order.

The method (``METHOD``), in the order the draws are made:

1. Schools are grouped into strata: the local authority, then any further columns the caller
   names (phase, size band, ...). Schools and strata are put in order by their values as
   text, school identifiers within each stratum likewise.
2. A stratum of ``n`` schools gives ``⌊n/2⌋`` to each arm. A stratum with an odd number has
   one school over, its *spare*. The spares are themselves shared out as evenly as possible
   between the arms: when the number of odd strata is odd, one draw decides which arm gets
   the one extra spare (below one half: the first arm); then a draw for each odd stratum, in
   stratum order, puts the odd strata in a random order (ties by stratum order), and the
   first of them in that order give their spare to the second arm (intervention) as many
   times as it is owed, the rest to the first (control). So every stratum is balanced to
   within one school and the whole trial too.
3. Within each stratum in order, one draw per school (in school order) gives each school a
   random key; the schools sorted by key (ties by school order) take the stratum's arms in
   the order first arm, second arm (each ``⌊n/2⌋`` times), then the spare.

Every draw is ``Generator.random()``, a double made from the top 53 bits of one 64-bit PCG64
output, so the stream is fixed by the seed alone.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cwsw.errors import OutputNotWritable, UserError, cannot_write

METHOD = (
    "stratified randomisation: schools within strata (local authority, then the further "
    "strata named) take half of each stratum per arm in a random order keyed by "
    "Generator.random(); the spare school of each odd stratum goes to the arms as evenly as "
    "possible across strata by a seeded draw; numpy PCG64 seeded with the recorded seed "
    "(cwsw.evaluation.randomisation)"
)

DEFAULT_ARMS = ("control", "intervention")


class RandomisationError(UserError):
    """Schools that cannot be randomised as given (a missing column, a school listed twice,
    no seed, ...); the message names the column or value and what to do."""


@dataclass(frozen=True)
class Allocation:
    """Schools and the arm each is allocated to, with what it takes to do it again.

    ``table`` has the school column, the local authority column, any further strata, then
    ``stratum`` (the stratum's values joined by `` / ``) and ``arm``, one row per school, in
    stratum then school order, every value as text.
    """

    table: pd.DataFrame
    seed: int
    method: str
    school_column: str
    strata_columns: tuple[str, ...]
    arms: tuple[str, str]
    inputs_sha256: str
    numpy_version: str

    def arm_of(self) -> dict[str, str]:
        """Each school's arm, by school identifier (as text)."""
        return dict(zip(self.table[self.school_column], self.table["arm"], strict=True))


def _text(value: object) -> str:
    """A value as the text the allocation orders and writes it by (whole-number floats, which
    pandas makes of integer columns with gaps, without their ``.0``)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or int(seed) < 0:
        raise RandomisationError(
            f"seed must be a whole number of at least 0, not {seed!r}: choose one and record it"
        )
    return int(seed)


def _check_arms(arms: Sequence[str]) -> tuple[str, str]:
    names = tuple(str(arm) for arm in arms)
    if len(names) != 2 or names[0] == names[1] or not all(names):
        raise RandomisationError(
            f"arms must be two different names, not {list(arms)!r}: e.g. control, intervention"
        )
    return names[0], names[1]


def _canonical_schools(
    schools: pd.DataFrame, school: str, strata_columns: tuple[str, ...]
) -> list[tuple[tuple[str, ...], str]]:
    """(stratum values, school identifier) for each school, as text, checked and in order."""
    needed = (school, *strata_columns)
    if len(set(needed)) != len(needed):
        raise RandomisationError(f"the school and strata columns must differ: {', '.join(needed)}")
    missing = [column for column in needed if column not in schools.columns]
    if missing:
        raise RandomisationError(
            f"the schools table has no column {', '.join(missing)}: "
            f"it has {', '.join(map(str, schools.columns))}"
        )
    if len(schools) < 2:
        raise RandomisationError(
            f"the schools table has {len(schools)} row(s): give at least two schools"
        )
    for column in needed:
        gaps = int(schools[column].isna().sum())
        if gaps:
            raise RandomisationError(
                f"{gaps} school(s) have no value in column {column}: fill it in or leave those "
                "schools out"
            )
    rows = [
        (tuple(_text(value) for value in values[1:]), _text(values[0]))
        for values in schools[list(needed)].itertuples(index=False, name=None)
    ]
    identifiers = [identifier for _, identifier in rows]
    if len(set(identifiers)) != len(identifiers):
        repeated = sorted({i for i in identifiers if identifiers.count(i) > 1})
        shown = ", ".join(repeated[:5]) + (" ..." if len(repeated) > 5 else "")
        raise RandomisationError(
            f"{len(repeated)} school identifier(s) appear more than once in column {school} "
            f"({shown}): list each school once"
        )
    return sorted(rows)


def _inputs_digest(rows: Sequence[tuple[tuple[str, ...], str]]) -> str:
    """SHA-256 of what was randomised: one line per school, stratum values then identifier,
    tab-separated, in the allocation's order."""
    digest = hashlib.sha256()
    for stratum, identifier in rows:
        digest.update(("\t".join((*stratum, identifier)) + "\n").encode("utf-8"))
    return digest.hexdigest()


def randomise_schools(
    schools: pd.DataFrame,
    *,
    seed: int,
    school: str = "laestab",
    la: str = "la_code",
    strata: Sequence[str] = (),
    arms: Sequence[str] = DEFAULT_ARMS,
) -> Allocation:
    """Allocate ``schools`` (one row each) to two arms, stratified by local authority (column
    ``la``) and the further columns ``strata``, as the module's method describes.

    The result does not depend on the order of the rows. Raises :class:`RandomisationError`
    when a column is missing or has gaps, a school appears twice, or the seed is not a whole
    number of at least 0.
    """
    seed = _check_seed(seed)
    arm_names = _check_arms(arms)
    strata_columns = (la, *strata)
    rows = _canonical_schools(schools, school, strata_columns)

    # Strata in order, each with its schools in order (rows are sorted by stratum, school).
    groups: list[tuple[tuple[str, ...], list[str]]] = []
    for stratum, identifier in rows:
        if groups and groups[-1][0] == stratum:
            groups[-1][1].append(identifier)
        else:
            groups.append((stratum, [identifier]))

    generator = np.random.Generator(np.random.PCG64(seed))

    odd = [index for index, (_, members) in enumerate(groups) if len(members) % 2]
    spares_to_second = len(odd) // 2
    if len(odd) % 2:
        # One spare is left over after pairing the odd strata: a draw decides its arm.
        spares_to_second += 0 if generator.random() < 0.5 else 1
    spare_arm: dict[int, str] = {}
    if odd:
        order = np.argsort(generator.random(len(odd)), kind="stable")
        for rank, position in enumerate(order):
            spare_arm[odd[int(position)]] = (
                arm_names[1] if rank < spares_to_second else arm_names[0]
            )

    records: list[tuple[str, ...]] = []
    for index, (stratum, members) in enumerate(groups):
        half = len(members) // 2
        arms_in_order = [arm_names[0]] * half + [arm_names[1]] * half
        if index in spare_arm:
            arms_in_order.append(spare_arm[index])
        keys = generator.random(len(members))
        allocated = [""] * len(members)
        for rank, position in enumerate(np.argsort(keys, kind="stable")):
            allocated[int(position)] = arms_in_order[rank]
        label = " / ".join(stratum)
        for identifier, arm in zip(members, allocated, strict=True):
            records.append((identifier, *stratum, label, arm))

    table = pd.DataFrame.from_records(
        records, columns=[school, *strata_columns, "stratum", "arm"]
    ).astype(str)
    return Allocation(
        table=table,
        seed=seed,
        method=METHOD,
        school_column=school,
        strata_columns=strata_columns,
        arms=arm_names,
        inputs_sha256=_inputs_digest(rows),
        numpy_version=np.__version__,
    )


def stratum_counts(allocation: Allocation) -> pd.DataFrame:
    """Schools in each arm by stratum, in stratum order: ``stratum``, one column per arm,
    ``schools``."""
    table = allocation.table
    first, second = allocation.arms
    strata = list(dict.fromkeys(table["stratum"]))
    counts = table.groupby(["stratum", "arm"], sort=False).size()
    out = pd.DataFrame(
        {
            "stratum": strata,
            first: [int(counts.get((s, first), 0)) for s in strata],
            second: [int(counts.get((s, second), 0)) for s in strata],
        }
    )
    out["schools"] = out[first] + out[second]
    return out


def allocation_csv(allocation: Allocation) -> str:
    """The allocation as CSV text: ``#`` comment lines with the seed, method, strata, arms,
    counts, the inputs' SHA-256 and numpy's version, then the table. ``pandas.read_csv(path,
    comment="#", dtype=str)`` reads it back."""
    table = allocation.table
    first, second = allocation.arms
    counts = table["arm"].value_counts()
    header = [
        "cwsw stratified randomisation of schools",
        f"seed: {allocation.seed}",
        f"method: {allocation.method}",
        f"strata: {', '.join(allocation.strata_columns)}",
        f"arms: {first}, {second}",
        f"schools: {len(table)} ({first} {int(counts.get(first, 0))}, "
        f"{second} {int(counts.get(second, 0))})",
        f"inputs_sha256: {allocation.inputs_sha256}",
        f"numpy: {allocation.numpy_version} (PCG64)",
    ]
    buffer = io.StringIO()
    for line in header:
        buffer.write(f"# {line}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(table.columns))
    writer.writerows(table.itertuples(index=False, name=None))
    return buffer.getvalue()


def write_allocation_csv(allocation: Allocation, path: Path) -> Path:
    """Write :func:`allocation_csv` to ``path`` (UTF-8, ``\\n`` line ends); returns ``path``."""
    try:
        path.write_bytes(allocation_csv(allocation).encode("utf-8"))
    except OSError as error:
        found: OutputNotWritable | None = cannot_write(path, error)
        if found is None:
            raise
        raise found from None
    return path


def balance_table(
    allocation: Allocation,
    schools: pd.DataFrame,
    covariates: Sequence[str],
) -> pd.DataFrame:
    """School-level covariates by arm: for each covariate, the schools with a value, the mean
    and standard deviation (n − 1) in each arm, and the standardised mean difference

    ``SMD = (mean₂ − mean₁) / √((sd₁² + sd₂²) / 2)``

    (second arm minus first; Austin 2009, "Balance diagnostics for comparing the distribution
    of baseline covariates between treatment groups in propensity-score matched samples",
    Stat Med 28:3083–3107; |SMD| above 0.1 is the usual sign of imbalance). A 0/1 covariate
    gives proportions. Schools missing a covariate are left out of that row only; every
    school in the allocation must be in ``schools``.
    """
    school = allocation.school_column
    if school not in schools.columns:
        raise RandomisationError(f"the schools table has no column {school}")
    missing = [c for c in covariates if c not in schools.columns]
    if missing:
        raise RandomisationError(f"the schools table has no covariate column {', '.join(missing)}")
    identifiers = schools[school].map(_text)
    if identifiers.duplicated().any():
        raise RandomisationError(f"a school appears more than once in column {school}")
    arm_of = allocation.arm_of()
    absent = sorted(set(arm_of) - set(identifiers))
    if absent:
        raise RandomisationError(
            f"{len(absent)} allocated school(s) are not in the schools table "
            f"(first {absent[0]}): give the table that was randomised"
        )
    arm = identifiers.map(arm_of)
    first, second = allocation.arms
    rows = []
    for covariate in covariates:
        column = schools[covariate]
        if column.dtype == bool:
            column = column.astype(float)
        if not pd.api.types.is_numeric_dtype(column):
            raise RandomisationError(
                f"covariate {covariate} is not numeric: give a number or a 0/1 flag per school"
            )
        values = column.astype(float)
        row: dict[str, object] = {"covariate": covariate}
        summary = {}
        for name in (first, second):
            chosen = values[(arm == name).to_numpy()].dropna().to_numpy()
            mean = float(chosen.mean()) if len(chosen) else math.nan
            sd = float(chosen.std(ddof=1)) if len(chosen) > 1 else math.nan
            summary[name] = (mean, sd)
            row[f"n_{name}"] = len(chosen)
            row[f"mean_{name}"] = mean
            row[f"sd_{name}"] = sd
        (mean_1, sd_1), (mean_2, sd_2) = summary[first], summary[second]
        pooled = math.sqrt((sd_1**2 + sd_2**2) / 2.0)
        difference = mean_2 - mean_1
        if math.isnan(pooled) or math.isnan(difference):
            row["smd"] = math.nan  # fewer than two schools with a value in an arm
        elif pooled > 0:
            row["smd"] = difference / pooled
        else:
            # No spread in either arm: equal means are balanced, different ones infinitely not.
            row["smd"] = 0.0 if difference == 0 else math.copysign(math.inf, difference)
        rows.append(row)
    columns = (
        ["covariate"]
        + [f"{stat}_{name}" for stat in ("n", "mean", "sd") for name in (first, second)]
        + ["smd"]
    )
    return pd.DataFrame(rows, columns=columns)
