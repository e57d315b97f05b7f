"""The local authority's schools and children (the true identities behind every return)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cwsw.domain.upn import CHECK_LETTERS, check_letter
from cwsw.synth import calibration as cal
from cwsw.synth import codes
from cwsw.synth.dates import Calendar, IntArray, birth_cohort, day

StrArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

LA_CODE = "947"  # a plausible code not used by any English LA, so the data can't look real
OTHER_LA_CODES = ("212", "318", "341", "826", "881", "926")


@dataclass
class Schools:
    laestab: StrArray
    urn: StrArray
    name: StrArray
    phase: IntArray  # calibration.PRIMARY .. AP
    weight: FloatArray  # relative size within its phase

    def __len__(self) -> int:
        return len(self.laestab)


@dataclass
class Children:
    """Every child who lived in the LA at some point in the simulated years."""

    birth: IntArray
    sex: StrArray  # M / F
    ethnicity: StrArray
    forename: StrArray
    surname: StrArray
    postcode: StrArray
    frailty: FloatArray  # drives social care involvement (and, through it, outcomes)
    in_state_school: BoolArray  # attends the LA's state schools when of school age
    upn: StrArray  # "" when never allocated
    upn_from: IntArray  # the day the UPN was allocated (Reception entry)
    former_upn: StrArray

    def __len__(self) -> int:
        return len(self.birth)


def _weighted(rng: np.random.Generator, pairs: tuple[tuple[str, float], ...], n: int) -> StrArray:
    labels = np.array([c for c, _ in pairs], dtype=object)
    p = np.array([w for _, w in pairs], dtype=float)
    return np.asarray(labels[rng.choice(len(labels), size=n, p=p / p.sum())], dtype=object)


def weighted_codes(
    rng: np.random.Generator, pairs: tuple[tuple[str, float], ...], n: int
) -> StrArray:
    return _weighted(rng, pairs, n)


def place_names(rng: np.random.Generator, n: int) -> list[str]:
    combos = [s + e for s in codes.PLACE_STEMS for e in codes.PLACE_ENDINGS]
    if n <= len(combos):
        picks = rng.choice(len(combos), size=n, replace=False)
        return [combos[i] for i in picks]
    # A large authority has more schools than place names: number the repeats, as real
    # names do ("St Mary's 2").
    picks = rng.choice(len(combos), size=n, replace=True)
    seen: dict[str, int] = {}
    names = []
    for i in picks:
        seen[combos[i]] = seen.get(combos[i], 0) + 1
        count = seen[combos[i]]
        names.append(combos[i] if count == 1 else f"{combos[i]} {count}")
    return names


def make_schools(rng: np.random.Generator, pupils: int) -> Schools:
    """About 60 schools for 30,000 pupils: the phase mix of an English LA."""
    counts = [
        max(1, round(pupils * 0.57 / 390)),
        max(1, round(pupils * 0.40 / 1000)),
        max(1, round(pupils * 0.025 / 180)),
        max(1, round(pupils * 0.005 / 60)),
    ]
    names = place_names(rng, sum(counts))
    # establishment number ranges by type (DfE convention: 2xxx primary, 4xxx secondary,
    # 7xxx special, 11xx pupil referral units)
    bases = (2000, 4000, 7000, 1100)
    suffix = ("Primary School", "Academy", "School", "Pupil Referral Unit")
    laestab: list[str] = []
    name: list[str] = []
    phase: list[int] = []
    k = 0
    for ph, n in enumerate(counts):
        estabs = np.sort(rng.choice(np.arange(bases[ph], bases[ph] + 99 * 8), n, replace=False))
        for e in estabs:
            laestab.append(f"{LA_CODE}{int(e):04d}")
            name.append(f"{names[k]} {suffix[ph]}")
            phase.append(ph)
            k += 1
    urn = rng.choice(np.arange(100000, 150000), size=len(laestab), replace=False)
    return Schools(
        laestab=np.array(laestab, dtype=object),
        urn=np.array([str(u) for u in urn], dtype=object),
        name=np.array(name, dtype=object),
        phase=np.array(phase, dtype=np.int64),
        weight=rng.lognormal(0.0, 0.3, size=len(laestab)),
    )


def _upns(
    rng: np.random.Generator, cohort: IntArray, schools: Schools, temporary: bool
) -> StrArray:
    """Unique UPNs: LA code, establishment, year of allocation, serial within the two."""
    n = len(cohort)
    primaries = schools.laestab[schools.phase == cal.PRIMARY]
    estab = np.array([s[3:] for s in primaries], dtype=object)[rng.integers(0, len(primaries), n)]
    la = np.full(n, LA_CODE, dtype=object)
    elsewhere = rng.random(n) < 0.10  # moved in: UPN allocated by another LA's school
    la[elsewhere] = np.array(OTHER_LA_CODES, dtype=object)[
        rng.integers(0, len(OTHER_LA_CODES), elsewhere.sum())
    ]
    estab[elsewhere] = np.array([f"{x:04d}" for x in rng.integers(2000, 2999, elsewhere.sum())])
    yy = (cohort + 5 - (1 if temporary else 0)) % 100
    keys = np.array([f"{a}{b}{c:02d}" for a, b, c in zip(la, estab, yy, strict=True)], dtype=object)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    first = np.ones(n, dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    serial = np.empty(n, dtype=np.int64)
    serial[order] = np.arange(n) - group_start
    out = np.empty(n, dtype=object)
    letters = CHECK_LETTERS
    for i in range(n):
        tail = f"{serial[i] % 1000:03d}"
        if temporary:
            tail = f"{serial[i] % 100:02d}{letters[serial[i] // 100 % len(letters)]}"
        body = f"{keys[i]}{tail}"
        out[i] = check_letter(body) + body
    return out


def make_children(
    rng: np.random.Generator, cal_: Calendar, schools: Schools, pupils: int
) -> Children:
    """Birth cohorts from those 18 at the first collection year to the unborn at the last."""
    cohort_size = pupils / (12 * (1 - cal.NOT_IN_STATE_SCHOOL))
    first_birth = day(cal_.collection_years[0] - 19, 4, 1)
    last_birth = cal_.reference_date + 150  # unborn children expected after 31 March
    n = round(cohort_size * (last_birth - first_birth) / 365.25)
    birth = np.sort(rng.integers(first_birth, last_birth + 1, size=n)).astype(np.int64)
    sex = np.where(rng.random(n) < 0.512, "M", "F").astype(object)
    ethnicity = weighted_codes(rng, codes.ETHNICITIES, n)
    fm = np.array(codes.FORENAMES_M, dtype=object)
    ff = np.array(codes.FORENAMES_F, dtype=object)
    forename = np.where(
        sex == "M", fm[rng.integers(0, len(fm), n)], ff[rng.integers(0, len(ff), n)]
    ).astype(object)
    surnames = np.array(codes.SURNAMES, dtype=object)
    surname = surnames[rng.zipf(1.3, n) % len(surnames)]
    area = np.array(codes.POSTCODE_AREAS, dtype=object)[rng.integers(0, 2, n)]
    district = rng.integers(1, 30, n)
    sector = rng.integers(0, 10, n)
    unit_letters = "ABDEFGHJLNPQRSTUWXYZ"
    u1 = rng.integers(0, len(unit_letters), n)
    u2 = rng.integers(0, len(unit_letters), n)
    postcode = np.array(
        [
            f"{a}{d} {s}{unit_letters[x]}{unit_letters[y]}"
            for a, d, s, x, y in zip(area, district, sector, u1, u2, strict=True)
        ],
        dtype=object,
    )
    # Heavy-tailed: most children never meet social care, a few meet it again and again.
    frailty = rng.gamma(0.06, 1 / 0.06, n)
    in_state = rng.random(n) >= cal.NOT_IN_STATE_SCHOOL
    # Involved children are less often in independent schools.
    in_state |= (frailty > 3) & (rng.random(n) < 0.5)
    cohort = birth_cohort(birth)
    upn_from = np.array([day(int(c) + 5, 9, 3) for c in cohort], dtype=np.int64)
    has_upn = in_state & (upn_from <= cal_.next_year_start)
    upn = np.full(n, "", dtype=object)
    idx = np.flatnonzero(has_upn)
    upn[idx] = _upns(rng, cohort[idx], schools, temporary=False)
    former = np.full(n, "", dtype=object)
    fidx = idx[rng.random(len(idx)) < 0.02]
    former[fidx] = _upns(rng, cohort[fidx], schools, temporary=True)
    return Children(
        birth=birth,
        sex=sex,
        ethnicity=ethnicity,
        forename=forename,
        surname=np.asarray(surname, dtype=object),
        postcode=postcode,
        frailty=frailty,
        in_state_school=in_state,
        upn=upn,
        upn_from=upn_from,
        former_upn=former,
    )
