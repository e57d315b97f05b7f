"""CIN census XML, one file per collection year, laid out as that year's XSD requires.

One element per line, so the writer knows the line of every value it writes (fault locations).
A child appears in a year when one of their episodes is open at any time in it; events after
31 March are not yet known to that year's return, so their dates are left out.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

from cwsw.synth import codes
from cwsw.synth.dates import NO_DATE, iso
from cwsw.synth.world import World


@lru_cache(maxsize=65536)
def _d(days: int) -> str:
    return iso(days)


def _index(episodes: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    for i, e in enumerate(episodes):
        out[e].append(i)
    return out


def write_all(world: World) -> None:
    sc = world.social_care
    ep = sc.episodes
    sub = sc.sub
    assess = _index(sub.assess_episode)
    plans = _index(sub.plan_episode)
    s47 = _index(sub.s47_episode)
    cps = _index(sub.cp_episode)
    by_child: dict[int, list[int]] = defaultdict(list)
    for e in range(len(ep.child)):
        by_child[int(ep.child[e])].append(e)
    for year in world.calendar.collection_years:
        ys, ye = world.calendar.year_start(year), world.calendar.year_end(year)
        in_year = (ep.referral <= ye) & (ep.closure >= ys)
        kids = sorted({int(c) for c in ep.child[in_year]}, key=lambda c: str(world.la_child_id[c]))
        rel = f"cin_census/cin_census_{year}.xml"
        lines = _header(year, ye, world.la_code)
        for ch in kids:
            eps = [e for e in by_child[ch] if ep.referral[e] <= ye and ep.closure[e] >= ys]
            _child(world, rel, lines, year, ys, ye, ch, eps, assess, plans, s47, cps)
        lines.append("  </Children>")
        lines.append("</Message>")
        world.path(rel).write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


def _header(year: int, ye: int, la: str) -> list[str]:
    return [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<Message>",
        "  <Header>",
        "    <CollectionDetails>",
        "      <Collection>CIN</Collection>",
        f"      <Year>{year}</Year>",
        f"      <ReferenceDate>{_d(ye)}</ReferenceDate>",
        "    </CollectionDetails>",
        "    <Source>",
        "      <SourceLevel>L</SourceLevel>",
        f"      <LEA>{la}</LEA>",
        "      <SoftwareCode>cwsw synth</SoftwareCode>",
        "      <Release>1</Release>",
        "      <SerialNo>001</SerialNo>",
        # Fixed per year (never the clock) so the same seed gives the same bytes.
        f"      <DateTime>{year}-05-15T09:00:00</DateTime>",
        "    </Source>",
        "  </Header>",
        "  <Children>",
    ]


def _child(
    world: World,
    rel: str,
    out: list[str],
    year: int,
    ys: int,
    ye: int,
    ch: int,
    eps: list[int],
    assess: dict[int, list[int]],
    plans: dict[int, list[int]],
    s47: dict[int, list[int]],
    cps: dict[int, list[int]],
) -> None:
    c = world.children
    sc = world.social_care
    ep, sub, log = sc.episodes, sc.sub, world.faults
    cid = str(world.la_child_id[ch])
    birth = int(c.birth[ch])
    unborn = birth > ye
    out.append("    <Child>")
    out.append("      <ChildIdentifiers>")
    out.append(f"        <LAchildID>{cid}</LAchildID>")
    upn = str(c.upn[ch]) if c.upn[ch] and c.upn_from[ch] <= ye else ""
    former = str(c.former_upn[ch]) if upn else ""
    unknown = ""
    if upn:
        written = log.upn(rel, len(out) + 1, cid, "UPN", upn, former, "UN5")
        if written is None:
            unknown = "UN5"  # the UPN was lost: sources disagree / not to hand
        else:
            out.append(f"        <UPN>{written}</UPN>")
        if former:
            out.append(f"        <FormerUPN>{former}</FormerUPN>")
    else:
        age = (ye - birth) / 365.25
        unknown = "UN1" if age < 6 else ("UN3" if c.in_state_school[ch] else "UN2")
    if unknown:
        out.append(f"        <UPNunknown>{unknown}</UPNunknown>")
    if unborn:
        out.append(f"        <ExpectedPersonBirthDate>{_d(birth)}</ExpectedPersonBirthDate>")
    else:
        out.append(f"        <PersonBirthDate>{_d(birth)}</PersonBirthDate>")
    sex = "U" if unborn else str(c.sex[ch])
    if year >= codes.SEX_FROM_YEAR:
        out.append(f"        <Sex>{sex}</Sex>")
    else:
        out.append(f"        <GenderCurrent>{codes.GENDER_CURRENT[sex]}</GenderCurrent>")
    out.append("      </ChildIdentifiers>")
    out.append("      <ChildCharacteristics>")
    out.append(f"        <Ethnicity>{'NOBT' if unborn else c.ethnicity[ch]}</Ethnicity>")
    dis = sc.disabilities.get(ch)
    if dis and not unborn:
        out.append("        <Disabilities>")
        out.extend(f"          <Disability>{d}</Disability>" for d in dis)
        out.append("        </Disabilities>")
    out.append("      </ChildCharacteristics>")
    for e in eps:
        nfa = bool(ep.kind[e] == 4)
        close = int(ep.closure[e])
        out.append("      <CINdetails>")
        out.append(f"        <CINreferralDate>{_d(int(ep.referral[e]))}</CINreferralDate>")
        out.append(f"        <ReferralSource>{ep.source[e]}</ReferralSource>")
        if not nfa:
            out.append(f"        <PrimaryNeedCode>{ep.need[e]}</PrimaryNeedCode>")
        if close <= ye:
            out.append(f"        <CINclosureDate>{_d(close)}</CINclosureDate>")
            out.append(f"        <ReasonForClosure>{ep.reason[e]}</ReasonForClosure>")
        icpcs = [sub.s47_icpc[i] for i in s47.get(e, []) if sub.s47_icpc[i] <= ye]
        if icpcs:
            out.append(f"        <DateOfInitialCPC>{_d(max(icpcs))}</DateOfInitialCPC>")
        for i in assess.get(e, []):
            a_start, a_auth = sub.assess_start[i], sub.assess_auth[i]
            if a_start > ye or a_auth < ys:
                continue
            out.append("        <Assessments>")
            out.append(
                f"          <AssessmentActualStartDate>{_d(a_start)}</AssessmentActualStartDate>"
            )
            if a_auth <= ye:
                auth = _d(a_auth)
                out.append(
                    f"          <AssessmentAuthorisationDate>{auth}</AssessmentAuthorisationDate>"
                )
                out.append("          <FactorsIdentifiedAtAssessment>")
                out.extend(
                    f"            <AssessmentFactors>{f}</AssessmentFactors>"
                    for f in sub.assess_factors[i]
                )
                out.append("          </FactorsIdentifiedAtAssessment>")
            out.append("        </Assessments>")
        if year >= codes.CIN_PLAN_DATES_FROM_YEAR:
            for i in plans.get(e, []):
                p_start, p_end = sub.plan_start[i], sub.plan_end[i]
                if p_start > ye or p_end < ys:
                    continue
                out.append("        <CINPlanDates>")
                out.append(f"          <CINPlanStartDate>{_d(p_start)}</CINPlanStartDate>")
                if p_end <= ye:
                    out.append(f"          <CINPlanEndDate>{_d(p_end)}</CINPlanEndDate>")
                out.append("        </CINPlanDates>")
        for i in s47.get(e, []):
            s_start, icpc = sub.s47_start[i], sub.s47_icpc[i]
            done = icpc if icpc < NO_DATE else s_start + 15
            if s_start > ye or done < ys:
                continue
            out.append("        <Section47>")
            out.append(f"          <S47ActualStartDate>{_d(s_start)}</S47ActualStartDate>")
            out.append(f"          <InitialCPCtarget>{_d(s_start + 15)}</InitialCPCtarget>")
            if icpc <= ye:
                out.append(f"          <DateOfInitialCPC>{_d(icpc)}</DateOfInitialCPC>")
            flag = log.yesno(rel, len(out) + 1, cid, "ICPCnotRequired", bool(icpc >= NO_DATE))
            out.append(f"          <ICPCnotRequired>{flag}</ICPCnotRequired>")
            out.append("        </Section47>")
        flag = log.yesno(rel, len(out) + 1, cid, "ReferralNFA", nfa)
        out.append(f"        <ReferralNFA>{flag}</ReferralNFA>")
        for i in cps.get(e, []):
            p_start, p_end = sub.cp_start[i], sub.cp_end[i]
            if p_start > ye or p_end < ys:
                continue
            out.append("        <ChildProtectionPlans>")
            out.append(f"          <CPPstartDate>{_d(p_start)}</CPPstartDate>")
            if p_end <= ye:
                out.append(f"          <CPPendDate>{_d(p_end)}</CPPendDate>")
            out.append(
                f"          <InitialCategoryOfAbuse>{sub.cp_initial[i]}</InitialCategoryOfAbuse>"
            )
            latest = sub.cp_latest[i] if p_end - p_start > 90 else sub.cp_initial[i]
            out.append(f"          <LatestCategoryOfAbuse>{latest}</LatestCategoryOfAbuse>")
            out.append(f"          <NumberOfPreviousCPP>{sub.cp_previous[i]}</NumberOfPreviousCPP>")
            # Review conferences at 3 months, then every 6 months while the plan lasts.
            reviews = [r for r in range(p_start + 90, min(p_end, ye + 1), 182)]
            if reviews:
                out.append("          <Reviews>")
                out.extend(f"            <CPPreviewDate>{_d(r)}</CPPreviewDate>" for r in reviews)
                out.append("          </Reviews>")
            out.append("        </ChildProtectionPlans>")
        out.append("      </CINdetails>")
    out.append("    </Child>")
