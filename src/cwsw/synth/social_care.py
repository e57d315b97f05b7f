"""Social care histories: referrals, assessments, CIN plans, s47 enquiries, CP plans, care.

Each child's referrals arrive as a renewal process whose rate is the child's frailty times a
base rate: after an episode closes the next referral may follow. Most episodes are short (closed
after assessment, or a few months on a CIN plan); about a third of CP plans last three months or
less; care periods are long. That churn is what makes the ever-in-six-years cohort several times
the 31 March one (docs/domain.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cwsw.synth import codes
from cwsw.synth.dates import NO_DATE, Calendar, IntArray, day
from cwsw.synth.population import BoolArray, Children, StrArray, weighted_codes

BASE_RATE = 0.14  # proposed referrals per child-year at frailty 1, before thinning by age
# Referral rates by age (relative, max 1): babies and teenagers more, primary age less.
AGE_BANDS = np.array([0, 1, 5, 16], dtype=np.int64)
AGE_WEIGHT = np.array([1.0, 0.6, 0.4, 0.75])
NFA_SHARE = 0.08
# Outcome of a (non-NFA) referral: closed after assessment, CIN plan, CP plan, care.
EPISODE_KIND = (0.44, 0.31, 0.175, 0.075)
ASSESS_CLOSE, CIN_PLAN, CP_PLAN, CARE, NFA = 0, 1, 2, 3, 4
YEAR = 365


@dataclass
class Episodes:
    child: IntArray
    referral: IntArray
    kind: IntArray
    closure: IntArray  # NO_DATE when open at the end of the simulation
    reason: StrArray
    source: StrArray
    need: StrArray

    @property
    def nfa(self) -> BoolArray:
        return np.asarray(self.kind == NFA)


@dataclass
class SubEvents:
    """Assessments, CIN plans, s47 enquiries and CP plans, each tied to an episode."""

    assess_episode: list[int] = field(default_factory=list)
    assess_start: list[int] = field(default_factory=list)
    assess_auth: list[int] = field(default_factory=list)
    assess_factors: list[tuple[str, ...]] = field(default_factory=list)
    plan_episode: list[int] = field(default_factory=list)
    plan_start: list[int] = field(default_factory=list)
    plan_end: list[int] = field(default_factory=list)
    s47_episode: list[int] = field(default_factory=list)
    s47_start: list[int] = field(default_factory=list)
    s47_icpc: list[int] = field(default_factory=list)  # NO_DATE: ICPC not required
    cp_episode: list[int] = field(default_factory=list)
    cp_start: list[int] = field(default_factory=list)
    cp_end: list[int] = field(default_factory=list)
    cp_initial: list[str] = field(default_factory=list)
    cp_latest: list[str] = field(default_factory=list)
    cp_previous: list[int] = field(default_factory=list)


@dataclass
class CareEpisodes:
    """SSDA903 episodes (one row per placement / legal status spell)."""

    child: list[int] = field(default_factory=list)
    period: list[int] = field(default_factory=list)  # index of the care period
    start: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)  # NO_DATE while open
    rne: list[str] = field(default_factory=list)
    ls: list[str] = field(default_factory=list)
    cin: list[str] = field(default_factory=list)
    place: list[str] = field(default_factory=list)
    provider: list[str] = field(default_factory=list)
    rec: list[str] = field(default_factory=list)
    reason_change: list[str] = field(default_factory=list)
    pl_post: list[str] = field(default_factory=list)
    urn: list[str] = field(default_factory=list)


@dataclass
class SocialCare:
    episodes: Episodes
    sub: SubEvents
    care: CareEpisodes
    care_start: IntArray  # per care period
    care_end: IntArray
    care_child: IntArray
    disabilities: dict[int, tuple[str, ...]]


def simulate(rng: np.random.Generator, cal: Calendar, children: Children) -> SocialCare:
    """Each child's referrals in turn; an episode's whole timeline is built before the next."""
    end_sim = cal.reference_date
    adult = children.birth + np.int64(round(18 * 365.25))
    start = np.maximum(children.birth - 120, cal.sim_start).astype(np.int64)
    stop = np.minimum(adult - 1, end_sim).astype(np.int64)
    mean_gap = YEAR / (BASE_RATE * np.maximum(children.frailty, 1e-9))
    # The first gap decides who is ever referred: only they enter the (slow) per-child loop.
    first = start + rng.exponential(mean_gap).astype(np.int64) + 1
    b = _Builder(rng, end_sim)
    for ch in np.flatnonzero(first <= stop):
        ch_i = int(ch)
        ref = int(first[ch_i])
        n_cp = 0
        birth = int(children.birth[ch_i])
        while ref <= stop[ch_i]:
            band = int(np.searchsorted(AGE_BANDS, (ref - birth) / 365.25, side="right")) - 1
            if rng.random() >= AGE_WEIGHT[max(band, 0)]:  # thinning: not referred at this age
                ref += 1 + int(rng.exponential(mean_gap[ch_i]))
                continue
            close, n_cp = b.episode(ch_i, ref, int(adult[ch_i]), n_cp)
            if close >= NO_DATE:
                break
            ref = close + 20 + int(rng.exponential(mean_gap[ch_i]))
    return b.finish()


class _Builder:
    def __init__(self, rng: np.random.Generator, end_sim: int) -> None:
        self.rng = rng
        self.end_sim = end_sim
        self.child: list[int] = []
        self.referral: list[int] = []
        self.kind: list[int] = []
        self.closure: list[int] = []
        self.reason: list[str] = []
        self.sub = SubEvents()
        self.care = CareEpisodes()
        self.care_start: list[int] = []
        self.care_end: list[int] = []
        self.care_child: list[int] = []

    def episode(self, ch: int, ref: int, adult: int, n_cp: int) -> tuple[int, int]:
        """Build one episode from referral to closure; returns (closure, CP plans so far)."""
        rng, sub, e = self.rng, self.sub, len(self.child)
        ue = rng.random(12)
        k = NFA if ue[0] < NFA_SHARE else int(np.searchsorted(_KIND_CUM, ue[1], side="right"))
        k = min(k, CARE) if k != NFA else NFA
        rc = "RC7"
        if k == NFA:
            close = ref + int(ue[2] * 8)
            rc = "RC8"
        else:
            a_start = ref + int(ue[2] * 8)
            a_auth = a_start + 10 + int(ue[3] * 35)
            sub.assess_episode.append(e)
            sub.assess_start.append(a_start)
            sub.assess_auth.append(a_auth)
            sub.assess_factors.append(_factors(rng, a_start))
            if k == ASSESS_CLOSE:
                close = a_auth + int(ue[4] * 30)
                rc = "RC9" if close >= codes.valid_from(2023) and ue[5] < 0.3 else "RC8"
            elif k == CIN_PLAN:
                p_start = a_auth + int(ue[4] * 14)
                p_end = p_start + int(np.clip(rng.lognormal(np.log(190), 0.75), 30, 1800))
                if ue[5] < 0.15:  # a strategy discussion found no need for a conference
                    self._s47(e, ref + int(ue[6] * 10), int(NO_DATE))
                self._plan(e, p_start, p_end)
                close = p_end + int(ue[7] * 30)
            else:
                s = ref + int(ue[6] * 10)
                icpc = s + 5 + int(ue[7] * 15)
                goes_to_cp = k == CP_PLAN or ue[8] < 0.35
                cp_end = int(NO_DATE)
                if goes_to_cp:
                    if ue[9] < 0.33:  # about a third of plans last three months or less
                        cp_end = icpc + 20 + int(ue[10] * 72)
                    else:
                        cp_end = icpc + int(np.clip(rng.lognormal(np.log(330), 0.45), 93, 1500))
                    self._s47(e, s, icpc)
                if k == CP_PLAN:
                    if ue[11] < 0.7:  # stepped down to a CIN plan
                        p_end = cp_end + 60 + int(ue[4] * 190)
                        self._plan(e, cp_end, p_end)
                        close = p_end
                    else:
                        close = cp_end + int(ue[4] * 15)
                else:
                    entry = icpc + 30 + int(ue[11] * 200) if goes_to_cp else a_auth + 5
                    if goes_to_cp:
                        cp_end = entry  # the plan ends when the child becomes looked after
                    c_end, rec = _care_period(
                        rng, self.care, ch, entry, adult, len(self.care_start)
                    )
                    self.care_start.append(entry)
                    self.care_end.append(c_end)
                    self.care_child.append(ch)
                    close = c_end + int(ue[4] * 30) if c_end < adult else adult
                    rc = _CARE_CLOSURE.get(rec, "RC7")
                if goes_to_cp:
                    cats = weighted_codes(rng, codes.ABUSE_CATEGORIES, 2)
                    sub.cp_episode.append(e)
                    sub.cp_start.append(icpc)
                    sub.cp_end.append(min(cp_end, adult))
                    sub.cp_initial.append(str(cats[0]))
                    sub.cp_latest.append(str(cats[0] if ue[3] < 0.8 else cats[1]))
                    sub.cp_previous.append(n_cp)
                    n_cp += 1
        if close >= adult:
            close, rc = adult, "RC6"
        self.child.append(ch)
        self.referral.append(ref)
        self.kind.append(k)
        if close > self.end_sim:
            close, rc = int(NO_DATE), ""
        self.closure.append(close)
        self.reason.append(rc)
        return close, n_cp

    def _s47(self, e: int, start: int, icpc: int) -> None:
        self.sub.s47_episode.append(e)
        self.sub.s47_start.append(start)
        self.sub.s47_icpc.append(icpc)

    def _plan(self, e: int, start: int, end: int) -> None:
        self.sub.plan_episode.append(e)
        self.sub.plan_start.append(start)
        self.sub.plan_end.append(end)

    def finish(self) -> SocialCare:
        rng = self.rng
        m = len(self.child)
        referral = np.array(self.referral, dtype=np.int64)
        source = weighted_codes(rng, codes.REFERRAL_SOURCES, m)
        recent = referral >= codes.valid_from(2023)
        source[recent & (rng.random(m) < 0.04)] = codes.REFERRAL_SOURCE_5D
        child = np.array(self.child, dtype=np.int64)
        disabilities: dict[int, tuple[str, ...]] = {}
        for ch in np.unique(child):
            r = rng.random()
            if r < 0.3:
                disabilities[int(ch)] = ("NONE",)
            elif r < 0.42:
                k = 1 + int(rng.random() < 0.3)
                picks = rng.choice(len(codes.DISABILITIES), size=k, replace=False)
                disabilities[int(ch)] = tuple(codes.DISABILITIES[i] for i in sorted(picks))
        return SocialCare(
            episodes=Episodes(
                child=child,
                referral=referral,
                kind=np.array(self.kind, dtype=np.int64),
                closure=np.array(self.closure, dtype=np.int64),
                reason=np.array(self.reason, dtype=object),
                source=source,
                need=weighted_codes(rng, codes.PRIMARY_NEEDS, m),
            ),
            sub=self.sub,
            care=self.care,
            care_start=np.array(self.care_start, dtype=np.int64),
            care_end=np.array(self.care_end, dtype=np.int64),
            care_child=np.array(self.care_child, dtype=np.int64),
            disabilities=disabilities,
        )


_KIND_CUM = np.cumsum(EPISODE_KIND)
_CARE_CLOSURE = {"E11": "RC1", "E12": "RC1", "E41": "RC4", "E45": "RC4", "E43": "RC3"}


def _factors(rng: np.random.Generator, start: int) -> tuple[str, ...]:
    pool = list(codes.ASSESSMENT_FACTORS)
    if start >= codes.valid_from(2021):
        pool += codes.FACTORS_2021
    if start >= codes.valid_from(2022):
        pool += codes.FACTORS_2022
    k = int(rng.integers(1, 4))
    picks = rng.choice(len(pool), size=k, replace=False)
    return tuple(pool[i] for i in sorted(picks))


def _care_period(
    rng: np.random.Generator, care: CareEpisodes, ch: int, start: int, adult: int, period: int
) -> tuple[int, str]:
    """One care period split into placement episodes; returns its end and reason ended."""
    if rng.random() < 0.33:
        length = int(rng.integers(7, 200))
    else:
        length = int(np.clip(rng.lognormal(np.log(1000), 0.8), 200, 18 * YEAR))
    end = start + length
    if end >= adult:
        end, rec = adult, "E17" if rng.random() < 0.3 else "E8"
    else:
        rec = str(weighted_codes(rng, codes.REASONS_CARE_ENDED, 1)[0])
    n_eps = 1 + min(int(rng.poisson(0.8 + length / 900)), 6)
    cuts = [int(c) for c in rng.integers(start + 1, max(start + 2, end), max(n_eps - 1, 0))]
    bounds = [start, *sorted(cuts), end]
    cin = str(weighted_codes(rng, codes.PRIMARY_NEEDS[:8], 1)[0])
    ls = str(weighted_codes(rng, codes.LEGAL_STATUS_START, 1)[0])
    place = str(weighted_codes(rng, codes.PLACEMENTS, 1)[0])
    provider = str(weighted_codes(rng, codes.PLACE_PROVIDERS, 1)[0])
    pl_post = f"QZ{rng.integers(1, 30)} {rng.integers(0, 10)}AB"
    urn = f"SC{rng.integers(100000, 999999)}"
    for j in range(len(bounds) - 1):
        s, e = bounds[j], bounds[j + 1]
        if s >= e:
            continue
        if j == 0:
            rne = "S"
        else:
            change = rng.random()
            if change < 0.6:
                rne = "P"
                place = str(weighted_codes(rng, codes.PLACEMENTS, 1)[0])
                provider = str(weighted_codes(rng, codes.PLACE_PROVIDERS, 1)[0])
                pl_post = f"QZ{rng.integers(1, 30)} {rng.integers(0, 10)}AB"
                urn = f"SC{rng.integers(100000, 999999)}"
            elif change < 0.9:
                rne = "L"
                ls = str(weighted_codes(rng, codes.LEGAL_STATUS_LATER, 1)[0])
            else:
                rne = "T"
                ls = str(weighted_codes(rng, codes.LEGAL_STATUS_LATER, 1)[0])
                place = str(weighted_codes(rng, codes.PLACEMENTS, 1)[0])
        last = j == len(bounds) - 2
        care.child.append(ch)
        care.period.append(period)
        care.start.append(s)
        care.end.append(e)
        care.rne.append(rne)
        care.ls.append(ls)
        care.cin.append(cin)
        care.place.append(place)
        care.provider.append(provider)
        care.rec.append(rec if last else "X1")
        nxt_place = not last
        care.reason_change.append(
            str(rng.choice(codes.REASON_PLACE_CHANGE)) if nxt_place and rng.random() < 0.6 else ""
        )
        care.pl_post.append(pl_post)
        care.urn.append(urn if place.startswith("K") or place.startswith("H") else "")
    return end, rec


def status_at(
    sc: SocialCare, n_children: int, on: int, twelve_months: bool = True
) -> tuple[BoolArray, BoolArray, BoolArray]:
    """(CIN open, CP plan open, looked after continuously for the 12 months to ``on``)."""
    ep = sc.episodes
    cin = np.zeros(n_children, dtype=bool)
    open_ = (~ep.nfa) & (ep.referral <= on) & (ep.closure > on)
    cin[ep.child[open_]] = True
    cp = np.zeros(n_children, dtype=bool)
    cps = np.array(sc.sub.cp_start, dtype=np.int64)
    cpe = np.array(sc.sub.cp_end, dtype=np.int64)
    cpc = ep.child[np.array(sc.sub.cp_episode, dtype=np.int64)] if len(cps) else cps
    cp[cpc[(cps <= on) & (cpe > on)]] = True
    cla = np.zeros(n_children, dtype=bool)
    since = day(_year_of(on) - 1, 4, 1) if twelve_months else on
    in_care = (sc.care_start <= since) & (sc.care_end > on)
    cla[sc.care_child[in_care]] = True
    return cin, cp, cla


def _year_of(on: int) -> int:
    from cwsw.synth.dates import to_date

    return to_date(on).year
