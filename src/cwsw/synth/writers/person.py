"""The case management system's person extract (data-contracts §2.4): every child known.

Names and dates of birth as social care recorded them, which is where linkage faults live:
nicknames, typos, a day and month swapped.
"""

from __future__ import annotations

from cwsw.synth.dates import day_month, iso, to_date
from cwsw.synth.world import World
from cwsw.synth.writers.csvio import write_csv

COLUMNS = ("la_child_id", "forename", "surname", "date_of_birth", "sex", "upn", "postcode")


def write(world: World) -> None:
    c = world.children
    log = world.faults
    rel = "person_extract.csv"
    bom = log.hit("bom")
    extract_day = world.calendar.reference_date
    cols: dict[str, list[str]] = {h: [] for h in COLUMNS}
    for r, ch in enumerate(world.known, start=1):
        cid = str(world.la_child_id[ch])
        birth = int(c.birth[ch])
        unborn = birth > extract_day
        fore = "Unborn" if unborn else str(c.forename[ch])
        sur = str(c.surname[ch])
        nick = None if unborn else log.nickname(fore)
        if nick and log.hit("name_nickname"):
            log.record(rel, r, cid, "forename", "name_nickname", fore, nick)
            fore = nick
        if log.hit("name_typo"):
            typo = log.typo(sur)
            log.record(rel, r, cid, "surname", "name_typo", sur, typo)
            sur = typo
        dob = "" if unborn else iso(birth)
        d, m = (int(x[0]) for x in day_month(c.birth[ch : ch + 1]))
        if dob and d <= 12 and d != m and log.hit("dob_swapped"):
            y = to_date(birth).year
            swapped = f"{y}-{d:02d}-{m:02d}"
            log.record(rel, r, cid, "date_of_birth", "dob_swapped", dob, swapped)
            dob = swapped
        upn = str(c.upn[ch]) if c.upn[ch] and c.upn_from[ch] <= extract_day else ""
        if upn:
            upn = log.upn(rel, r, cid, "upn", upn, str(c.former_upn[ch])) or ""
        cols["la_child_id"].append(log.child_id(rel, r, cid, "la_child_id"))
        cols["forename"].append(fore)
        cols["surname"].append(sur)
        cols["date_of_birth"].append(dob)
        cols["sex"].append("U" if unborn else str(c.sex[ch]))
        cols["upn"].append(upn)
        cols["postcode"].append(str(c.postcode[ch]))
    if bom:
        log.record(rel, 0, "", "", "bom", "", "\\ufeff")
    write_csv(world.path(rel), COLUMNS, cols, bom=bom)
