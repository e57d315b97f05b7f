"""Pupils' enrolments, absence, exclusions, SEN, FSM and results for one academic year.

Outcomes are drawn conditional on the child's social care group at 31 March of the reference
year (DfE pairs that status with the academic year ending that summer) and on school phase, to
the figures in ``calibration``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cwsw.synth import calibration as cal
from cwsw.synth import codes
from cwsw.synth.dates import BLOCK_SESSIONS, NO_DATE, Calendar, IntArray, birth_cohort, day
from cwsw.synth.population import Children, FloatArray, Schools, StrArray
from cwsw.synth.social_care import SocialCare, status_at

AUTH_CODES = np.array([c for c, _ in codes.AUTHORISED_CODES], dtype=object)
AUTH_P = np.array([w for _, w in codes.AUTHORISED_CODES])
UNAUTH_CODES = np.array([c for c, _ in codes.UNAUTHORISED_CODES], dtype=object)
UNAUTH_P = np.array([w for _, w in codes.UNAUTHORISED_CODES])
# Share of pupils on roll who leave a school during the year and join no other in the LA's
# censuses (gone missing from education, electively home educated or moved away unrecorded).
# DfE, "Children missing education", autumn term 2024/25: 39,200 children missing education on
# census day, 0.5% of the school-age population; a rough figure for a synthetic LA.
DEFAULT_NO_NEXT_SCHOOL_RATE = 0.005


@dataclass
class Enrolments:
    pupil: IntArray  # child index
    school: IntArray
    entry: IntArray
    leave: IntArray  # NO_DATE: still on roll at the autumn census
    table_id: StrArray  # pupilonrolltableid / pupilnolongeronrolltableid
    nc: IntArray  # NC year in the academic year (-1: starts Reception next September)
    possible: IntArray  # (n, 4) sessions possible: autumn, spring, summer 1, summer 2
    sen: StrArray  # N / K / E

    def __len__(self) -> int:
        return len(self.pupil)


@dataclass
class Absence:
    enrolment: IntArray
    block: IntArray
    code: StrArray
    sessions: IntArray


@dataclass
class Exclusions:
    enrolment: IntArray
    start: IntArray
    category: StrArray  # SUSP / PERM
    sessions: IntArray  # 0 for a permanent exclusion
    reason: StrArray


@dataclass
class Results:
    ks2_pupil: IntArray
    ks2_school: IntArray
    ks2: npt.NDArray[np.int64]  # (n, 4): read, writ, mat, rwm
    ks4_pupil: IntArray
    ks4_school: IntArray
    att8: FloatArray
    p8: FloatArray  # nan: no prior attainment
    basics94: IntArray
    basics95: IntArray


@dataclass
class Education:
    group: IntArray  # per child, calibration.NEVER .. CLA12
    enrolments: Enrolments
    absence: Absence
    exclusions: Exclusions
    fsm_start: IntArray  # per child: start of current FSM period (NO_DATE: not eligible)
    fsm_past: IntArray  # per child: start of an ended earlier period (NO_DATE: none)
    sen_needs: dict[int, tuple[str, ...]]  # per child with SEN
    results: Results
    middle_name: StrArray
    uln: StrArray
    # Enrolments (indices) left during the year by pupils drawn to have no next school.
    no_next_school: IntArray


def social_care_group(sc: SocialCare, n: int, calendar: Calendar) -> IntArray:
    """DfE's mutually exclusive groups at 31 March, plus ever CIN in the collection years."""
    ref = calendar.reference_date
    cin, cp, cla = status_at(sc, n, ref)
    ep = sc.episodes
    ever = np.zeros(n, dtype=bool)
    first = calendar.year_start(calendar.collection_years[0])
    m = (~ep.nfa) & (ep.referral <= ref) & (ep.closure >= first)
    ever[ep.child[m]] = True
    group = np.full(n, cal.NEVER, dtype=np.int64)
    group[ever] = cal.PREVIOUS
    group[cin] = cal.CINO
    group[cp] = cal.CPPO
    group[cla] = cal.CLA12
    return group


def _hex(rng: np.random.Generator, n: int, width: int) -> StrArray:
    vals = rng.integers(0, 16**width, n, dtype=np.int64)
    return np.array([f"{v:0{width}x}" for v in vals], dtype=object)


def _pick_school(rng: np.random.Generator, schools: Schools, phase: IntArray) -> IntArray:
    out = np.zeros(len(phase), dtype=np.int64)
    for ph in range(4):
        rows = np.flatnonzero(phase == ph)
        cands = np.flatnonzero(schools.phase == ph)
        if not len(rows):
            continue
        if not len(cands):  # a tiny LA with no school of this phase: use mainstream
            cands = np.flatnonzero(schools.phase == cal.SECONDARY)
        w = schools.weight[cands] / schools.weight[cands].sum()
        out[rows] = cands[rng.choice(len(cands), size=len(rows), p=w)]
    return out


def _overlap_possible(entry: IntArray, leave: IntArray, calendar: Calendar) -> IntArray:
    blocks = [calendar.autumn, calendar.spring, calendar.summer1, calendar.summer2]
    out = np.zeros((len(entry), 4), dtype=np.int64)
    for b, (s, e) in enumerate(blocks):
        lo = np.maximum(entry, s)
        hi = np.minimum(leave - 1, e)
        frac = np.clip((hi - lo + 1) / (e - s + 1), 0, 1)
        out[:, b] = np.rint(frac * BLOCK_SESSIONS[b]).astype(np.int64)
    return out


def build(
    rng: np.random.Generator,
    calendar: Calendar,
    children: Children,
    schools: Schools,
    sc: SocialCare,
    *,
    no_next_school_rate: float = 0.0,
    no_next_school_rng: np.random.Generator | None = None,
) -> Education:
    """The year's education records. ``no_next_school_rate`` of the pupils not otherwise
    leaving leave their school during the year and join no other, drawn from
    ``no_next_school_rng`` (its own stream, so the other draws are the same at rate 0)."""
    n = len(children)
    group = social_care_group(sc, n, calendar)
    cohort = birth_cohort(children.birth)
    ay = calendar.end_year - 1  # the academic year starts in September of this year
    nc = ay - cohort - 5
    pupil_now = children.in_state_school & (nc >= 0) & (nc <= 11)
    new_reception = children.in_state_school & (nc == -1)
    pidx = np.flatnonzero(pupil_now)
    g = group[pidx]
    pnc = nc[pidx]
    m = len(pidx)
    # School phase, conditional on the social care group.
    phase = np.where(pnc <= 6, cal.PRIMARY, cal.SECONDARY)
    special = rng.random(m) < cal.SPECIAL_SCHOOL[g]
    ap = (~special) & (pnc >= 5) & (rng.random(m) < cal.AP_SCHOOL[g] * 12 / 7)
    phase[special] = cal.SPECIAL
    phase[ap] = cal.AP
    school = _pick_school(rng, schools, phase)
    y_start = calendar.year_start_sept
    entry = np.where(
        phase == cal.PRIMARY,
        np.array([day(int(c) + 5, 9, 4) for c in cohort[pidx]]),
        np.where(
            phase == cal.SECONDARY,
            np.array([day(int(c) + 11, 9, 4) for c in cohort[pidx]]),
            y_start - rng.integers(30, 4 * 365, m),
        ),
    ).astype(np.int64)
    in_year = rng.random(m) < 0.02  # joined from outside the LA during the year
    entry[in_year] = y_start + rng.integers(20, 300, in_year.sum())
    leave = np.full(m, NO_DATE, dtype=np.int64)
    end_summer = calendar.summer2[1]
    leave[pnc == 11] = end_summer
    y6_move = (pnc == 6) & (phase == cal.PRIMARY)
    leave[y6_move] = end_summer
    # Absence rate per pupil: a mixture whose weights are the group x phase PA / SA targets.
    u = rng.random(m)
    cin_like = g >= cal.CINO
    low = 0.1 * rng.beta(np.where(cin_like, 1.8, 1.2), np.where(cin_like, 2.2, 3.5))
    mid = 0.1 + 0.4 * rng.beta(1.0, np.where(cin_like, 3.0, 4.0))
    high = 0.5 + 0.5 * rng.beta(1.5, 1.6, m)
    unauth = np.clip(rng.beta(2, 2, m) * 2 * cal.UNAUTHORISED_SHARE[g], 0, 1)
    # Exclusions: suspensions and permanent exclusions by group and phase.
    susp = rng.random(m) < cal.SUSPENSION[g] * cal.EXCLUSION_PHASE[phase]
    perm = (pnc >= 1) & (rng.random(m) < cal.PERMANENT[g] * cal.EXCLUSION_PHASE[phase])
    perm_date = y_start + rng.integers(30, 300, m)
    # Movers: change school mid-year (some after a permanent exclusion), or leave the LA.
    mover = (rng.random(m) < 0.03) | perm
    moved_away = (~mover) & (rng.random(m) < 0.01)
    move_date = np.where(perm, perm_date + 5, y_start + rng.integers(20, 320, m))
    move_date = np.maximum(move_date, entry + 10)
    mover &= move_date < end_summer
    moved_away &= move_date < end_summer
    leave[mover | moved_away] = move_date[mover | moved_away]
    # Leavers with no next school: from pupils staying all year, a date in the year. They
    # leave only once the year's draws are made (_leave_with_no_next_school).
    gone_rng = np.random.default_rng(0) if no_next_school_rng is None else no_next_school_rng
    gone = (leave == NO_DATE) & (gone_rng.random(m) < no_next_school_rate)
    gone_date = np.maximum(y_start + gone_rng.integers(20, 320, m), entry + 10)
    gone &= gone_date < end_summer

    # Enrolments: this year's, movers' second, and next September's (Year 7, Reception).
    e_pupil = [pidx]
    e_school = [school]
    e_entry = [entry]
    e_leave = [leave]
    e_nc = [pnc]
    e_src = [np.arange(m)]  # index into this year's pupil arrays (for their outcomes)
    mv = np.flatnonzero(mover)
    new_phase = phase[mv].copy()
    new_phase[perm[mv] & (pnc[mv] >= 5)] = cal.AP
    new_school = _pick_school(rng, schools, new_phase)
    m2_leave = np.full(len(mv), NO_DATE, dtype=np.int64)
    m2_leave[pnc[mv] == 11] = end_summer
    m2_leave[(pnc[mv] == 6) & (new_phase == cal.PRIMARY)] = end_summer
    e_pupil.append(pidx[mv])
    e_school.append(new_school)
    e_entry.append(move_date[mv] + rng.integers(1, 15, len(mv)))
    e_leave.append(m2_leave)
    e_nc.append(pnc[mv])
    e_src.append(mv)
    # Year 6 leavers of primaries go on to a secondary; a new Reception cohort arrives.
    final_leave = leave.copy()
    final_leave[mv] = m2_leave
    to_y7 = np.flatnonzero((pnc == 6) & (final_leave == end_summer) & (rng.random(m) < 0.97))
    sec = np.full(len(to_y7), cal.SECONDARY, dtype=np.int64)
    e_pupil.append(pidx[to_y7])
    e_school.append(_pick_school(rng, schools, sec))
    e_entry.append(np.full(len(to_y7), calendar.next_year_start, dtype=np.int64))
    e_leave.append(np.full(len(to_y7), NO_DATE, dtype=np.int64))
    e_nc.append(np.full(len(to_y7), 6, dtype=np.int64))
    e_src.append(to_y7)
    rec = np.flatnonzero(new_reception)
    e_pupil.append(rec)
    e_school.append(_pick_school(rng, schools, np.full(len(rec), cal.PRIMARY, dtype=np.int64)))
    e_entry.append(np.full(len(rec), calendar.next_year_start, dtype=np.int64))
    e_leave.append(np.full(len(rec), NO_DATE, dtype=np.int64))
    e_nc.append(np.full(len(rec), -1, dtype=np.int64))
    e_src.append(np.full(len(rec), -1, dtype=np.int64))

    pupil = np.concatenate(e_pupil)
    en_school = np.concatenate(e_school)
    en_entry = np.concatenate(e_entry)
    en_leave = np.concatenate(e_leave)
    src = np.concatenate(e_src)
    possible = _overlap_possible(en_entry, en_leave, calendar)
    # School-to-school differences in INSET days.
    offset = rng.integers(-1, 2, (len(schools), 4)) * 2
    possible = np.where(possible > 10, possible + offset[en_school], possible)
    ne = len(pupil)
    # SEN provision, by group and school phase.
    en_phase = schools.phase[en_school]
    pg = group[pupil]
    k_e = cal.SEN_MAINSTREAM[pg]
    k_e[en_phase == cal.AP] = cal.SEN_AP
    us = rng.random(ne)
    sen = np.where(us < k_e[:, 1], "E", np.where(us < k_e.sum(axis=1), "K", "N")).astype(object)
    sen[(en_phase == cal.SPECIAL) & (rng.random(ne) < cal.SPECIAL_EHC)] = "E"
    # Keep a pupil's SEN provision the same across their enrolments.
    first_sen: dict[int, str] = {}
    for i in range(ne):
        sen[i] = first_sen.setdefault(int(pupil[i]), str(sen[i]))

    # Absence per enrolment: total = rate x possible, split over blocks and codes.
    has_src = src >= 0
    tot_possible = possible.sum(axis=1)
    # The component follows the enrolment's own school phase (a pupil moved to AP after a
    # permanent exclusion takes AP's mixture), with the pupil's draw kept across enrolments.
    s0 = np.maximum(src, 0)
    pa_sa_e = cal.ABSENCE_PA_SA[group[pupil], en_phase]
    c = np.where(u[s0] < pa_sa_e[:, 1], 2, np.where(u[s0] < pa_sa_e[:, 0], 1, 0))
    c = np.where(has_src, c, 0)
    r = np.where(c == 2, high[s0], np.where(c == 1, mid[s0], low[s0]))
    r = np.where(has_src, r, 0.0)
    raw = r * tot_possible
    absent = np.where(c == 0, np.floor(raw), np.ceil(raw)).astype(np.int64)
    absent = np.minimum(absent, tot_possible)
    share = possible / np.maximum(tot_possible, 1)[:, None]
    share[tot_possible == 0] = 0.25
    per_block = rng.multinomial(absent, share)
    # Severe absence can't exceed a block's possible sessions: move the excess elsewhere.
    over = np.maximum(per_block - possible, 0)
    per_block -= over
    spare = possible - per_block
    for b in range(4):
        give = np.minimum(over.sum(axis=1), spare[:, b])
        per_block[:, b] += give
        over_total = over.sum(axis=1) - give
        over = np.zeros_like(over)
        over[:, 0] = over_total
    un = np.where(has_src, unauth[np.maximum(src, 0)], 0.3)
    ab_enr: list[IntArray] = []
    ab_block: list[IntArray] = []
    ab_code: list[StrArray] = []
    ab_sess: list[IntArray] = []
    for b in range(4):
        nb = per_block[:, b]
        n_un = rng.binomial(nb, un)
        for counts, code_set in (
            (rng.multinomial(nb - n_un, AUTH_P / AUTH_P.sum()), AUTH_CODES),
            (rng.multinomial(n_un, UNAUTH_P / UNAUTH_P.sum()), UNAUTH_CODES),
        ):
            rows, cols = np.nonzero(counts)
            ab_enr.append(rows)
            ab_block.append(np.full(len(rows), b, dtype=np.int64))
            ab_code.append(code_set[cols])
            ab_sess.append(counts[rows, cols])
    absence = Absence(
        enrolment=np.concatenate(ab_enr),
        block=np.concatenate(ab_block),
        code=np.concatenate(ab_code),
        sessions=np.concatenate(ab_sess),
    )
    order = np.lexsort((absence.block, absence.enrolment))
    absence = Absence(
        absence.enrolment[order], absence.block[order], absence.code[order], absence.sessions[order]
    )

    # Exclusions on the pupil's first enrolment of the year.
    ex_enr: list[int] = []
    ex_start: list[int] = []
    ex_cat: list[str] = []
    ex_sess: list[int] = []
    ex_reason: list[str] = []
    blocks = [calendar.autumn, calendar.spring, calendar.summer1, calendar.summer2]
    first_enr = np.arange(m)  # the first m enrolments are this year's first
    for i_ in np.flatnonzero(susp | perm):
        i = int(i_)
        enr = int(first_enr[i])
        pb = possible[enr].astype(float)
        if pb.sum() == 0:
            continue
        count = 1 + int(rng.poisson(0.7)) if susp[i] else 0
        for _ in range(count):
            b = int(rng.choice(4, p=pb / pb.sum()))
            s, e = blocks[b]
            lo, hi = max(s, int(en_entry[enr])), min(e, int(en_leave[enr]) - 1)
            if hi < lo:
                continue
            ex_enr.append(enr)
            ex_start.append(int(rng.integers(lo, hi + 1)))
            ex_cat.append("SUSP")
            ex_sess.append(int(rng.choice([1, 2, 2, 2, 4, 4, 6, 10])))
            ex_reason.append(str(rng.choice(codes.SUSPENSION_REASONS)))
        if perm[i] and perm_date[i] < en_leave[enr]:
            ex_enr.append(enr)
            ex_start.append(int(perm_date[i]))
            ex_cat.append("PERM")
            ex_sess.append(0)
            ex_reason.append(str(rng.choice(codes.SUSPENSION_REASONS)))
    exclusions = Exclusions(
        enrolment=np.array(ex_enr, dtype=np.int64),
        start=np.array(ex_start, dtype=np.int64),
        category=np.array(ex_cat, dtype=object),
        sessions=np.array(ex_sess, dtype=np.int64),
        reason=np.array(ex_reason, dtype=object),
    )
    gone_rows = np.flatnonzero(gone)  # the first m enrolments are this year's first
    en_leave, possible, absence, exclusions = _leave_with_no_next_school(
        calendar,
        gone_rows,
        gone_date[gone_rows],
        en_entry,
        en_leave,
        possible,
        offset[en_school[gone_rows]],
        absence,
        exclusions,
    )

    # FSM: eligible on census day by group; some have an earlier, ended period.
    fsm_start = np.full(n, NO_DATE, dtype=np.int64)
    fsm_past = np.full(n, NO_DATE, dtype=np.int64)
    all_p = np.unique(pupil)
    elig = all_p[rng.random(len(all_p)) < cal.FSM[group[all_p]]]
    spring_census = calendar.census_days["spring"]
    fsm_start[elig] = spring_census - rng.integers(20, 5 * 365, len(elig))
    past = all_p[rng.random(len(all_p)) < 0.12]
    fsm_past[past] = spring_census - rng.integers(5 * 365 + 30, 7 * 365, len(past))

    sen_needs: dict[int, tuple[str, ...]] = {}
    sen_codes = [c for c, _ in codes.SEN_TYPES]
    sen_p = np.array([w for _, w in codes.SEN_TYPES])
    for p in np.unique(pupil[sen != "N"]):
        k = 1 + int(rng.random() < 0.35)
        picks = rng.choice(len(sen_codes), size=k, replace=False, p=sen_p / sen_p.sum())
        sen_needs[int(p)] = tuple(sen_codes[j] for j in picks)

    results = _results(rng, group, pidx, pnc, phase, school)
    names = np.array(codes.FORENAMES_M + codes.FORENAMES_F, dtype=object)
    middle = np.where(rng.random(n) < 0.6, names[rng.integers(0, len(names), n)], "")
    uln = np.array([f"{v}" for v in rng.integers(10**9, 10**10 - 1, n)], dtype=object)
    return Education(
        group=group,
        enrolments=Enrolments(
            pupil=pupil,
            school=en_school,
            entry=en_entry,
            leave=en_leave,
            table_id=np.array(
                [f"{a}-{b}" for a, b in zip(_hex(rng, ne, 8), _hex(rng, ne, 3), strict=True)],
                dtype=object,
            ),
            nc=np.concatenate(e_nc),
            possible=possible,
            sen=sen,
        ),
        absence=absence,
        exclusions=exclusions,
        fsm_start=fsm_start,
        fsm_past=fsm_past,
        sen_needs=sen_needs,
        results=results,
        middle_name=np.asarray(middle, dtype=object),
        uln=uln,
        no_next_school=gone_rows,
    )


def _leave_with_no_next_school(
    calendar: Calendar,
    rows: IntArray,
    leave_date: IntArray,
    entry: IntArray,
    leave: IntArray,
    possible: IntArray,
    inset_offset: IntArray,
    absence: Absence,
    exclusions: Exclusions,
) -> tuple[IntArray, IntArray, Absence, Exclusions]:
    """Enrolments ``rows`` end on ``leave_date``, with no next school.

    Applied after the year's draws, with no draws of its own, so every other pupil's records
    are those of the same LA without these leavers (the draws that follow take a varying
    share of the stream). Possible sessions are cut to the days on roll (with the school's
    INSET offset, as before), each absence count in the same proportion (rounded down), and
    suspensions on or after the leaving date dropped.
    """
    leave = leave.copy()
    leave[rows] = leave_date
    cut = _overlap_possible(entry[rows], leave[rows], calendar)
    cut = np.where(cut > 10, cut + inset_offset, cut)
    share = np.ones(possible.shape)
    share[rows] = np.clip(cut / np.maximum(possible[rows], 1), 0.0, 1.0)
    possible = possible.copy()
    possible[rows] = cut
    sessions = np.floor(absence.sessions * share[absence.enrolment, absence.block])
    sessions = sessions.astype(np.int64)
    kept = sessions > 0
    absence = Absence(
        absence.enrolment[kept], absence.block[kept], absence.code[kept], sessions[kept]
    )
    before = exclusions.start < leave[exclusions.enrolment]
    exclusions = Exclusions(
        exclusions.enrolment[before],
        exclusions.start[before],
        exclusions.category[before],
        exclusions.sessions[before],
        exclusions.reason[before],
    )
    return leave, possible, absence, exclusions


def _results(
    rng: np.random.Generator,
    group: IntArray,
    pidx: IntArray,
    pnc: IntArray,
    phase: IntArray,
    school: IntArray,
) -> Results:
    g = group[pidx]
    special = phase == cal.SPECIAL
    s = cal.SPECIAL_SCHOOL[g]
    # Mainstream rate so that the group's rate over all its pupils hits the target.
    p_main = np.clip((cal.KS2_RWM[g] - s * cal.KS2_RWM_SPECIAL) / (1 - s), 0, 1)
    p = np.where(special, cal.KS2_RWM_SPECIAL, p_main)
    y6 = np.flatnonzero(pnc == 6)
    rwm = rng.random(len(y6)) < p[y6]
    subj = rng.random((len(y6), 3)) < 0.5
    subj[rwm] = True
    # Not meeting RWM means missing at least one subject.
    all3 = subj.all(axis=1) & ~rwm
    subj[all3, rng.integers(0, 3, all3.sum())] = False
    ks2 = np.column_stack([subj.astype(np.int64), rwm.astype(np.int64)])
    y11 = np.flatnonzero(pnc == 11)
    g11 = g[y11]
    mean_main = (cal.ATT8[g11] - s[y11] * cal.ATT8_SPECIAL) / (1 - s[y11])
    mean = np.where(special[y11], cal.ATT8_SPECIAL, mean_main)
    shape = np.where(g11 >= cal.CINO, 1.3, np.where(special[y11], 0.8, 6.0))
    att8 = np.clip(rng.gamma(shape, mean / shape), 0, 90)
    att8 = np.round(att8 * 2) / 2  # Attainment 8 moves in half points
    p8 = np.round((att8 - 46.0) / 12.0 + rng.normal(0, 0.4, len(y11)), 2)
    p8[rng.random(len(y11)) < np.where(g11 == cal.CLA12, 0.15, 0.05)] = np.nan
    b94 = (rng.random(len(y11)) < 1 / (1 + np.exp(-(att8 - 40) / 5))).astype(np.int64)
    b95 = (b94 == 1) & (rng.random(len(y11)) < 1 / (1 + np.exp(-(att8 - 50) / 5)) / 0.9)
    return Results(
        ks2_pupil=pidx[y6],
        ks2_school=school[y6],
        ks2=ks2,
        ks4_pupil=pidx[y11],
        ks4_school=school[y11],
        att8=att8,
        p8=p8,
        basics94=b94,
        basics95=b95.astype(np.int64),
    )


def nc_year(children: Children, calendar: Calendar) -> IntArray:
    return np.asarray(calendar.end_year - 1 - birth_cohort(children.birth) - 5, dtype=np.int64)


__all__ = ["Education", "build", "nc_year"]
