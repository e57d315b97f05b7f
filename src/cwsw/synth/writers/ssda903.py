"""SSDA903 header and episodes tables (CSV), one folder per collection year.

Columns as the DfE's CSV form (``../shared/fixtures/ssda903``); ``CHILD`` is the CIN census
``LAchildID``. An episode still open on 31 March has no ``DEC`` / ``REC`` in that year's return.
"""

from __future__ import annotations

from functools import lru_cache

from cwsw.synth import codes
from cwsw.synth.dates import dmy
from cwsw.synth.world import World
from cwsw.synth.writers.csvio import write_csv

HEADER = ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB")
EPISODES = (
    "CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
    "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN",
)  # fmt: skip


@lru_cache(maxsize=65536)
def _d(days: int) -> str:
    return dmy(days)


def write_all(world: World) -> None:
    care = world.social_care.care
    c = world.children
    log = world.faults
    for year in world.calendar.collection_years:
        ys, ye = world.calendar.year_start(year), world.calendar.year_end(year)
        rows = [i for i in range(len(care.child)) if care.start[i] <= ye and care.end[i] >= ys]
        rows.sort(key=lambda i: (str(world.la_child_id[care.child[i]]), care.start[i]))
        rel = f"ssda903/{year}/episodes.csv"
        bom = log.hit("bom")
        cols: dict[str, list[str]] = {h: [] for h in EPISODES}
        for r, i in enumerate(rows, start=1):
            ch = care.child[i]
            cid = str(world.la_child_id[ch])
            ended = care.end[i] <= ye
            cols["CHILD"].append(log.child_id(rel, r, cid, "CHILD"))
            cols["DECOM"].append(_d(care.start[i]))
            cols["RNE"].append(care.rne[i])
            cols["LS"].append(care.ls[i])
            cols["CIN"].append(care.cin[i])
            cols["PLACE"].append(codes.placement_in_year(care.place[i], year))
            cols["PLACE_PROVIDER"].append(care.provider[i])
            cols["DEC"].append(_d(care.end[i]) if ended else "")
            cols["REC"].append(care.rec[i] if ended else "")
            cols["REASON_PLACE_CHANGE"].append(care.reason_change[i] if ended else "")
            cols["HOME_POST"].append(str(c.postcode[ch]))
            cols["PL_POST"].append(care.pl_post[i])
            cols["URN"].append(care.urn[i])
        if bom:
            log.record(rel, 0, "", "", "bom", "", "\\ufeff")
        write_csv(world.path(rel), EPISODES, cols, bom=bom)

        kids = sorted({care.child[i] for i in rows}, key=lambda k: str(world.la_child_id[k]))
        rel = f"ssda903/{year}/header.csv"
        bom = log.hit("bom")
        hcols: dict[str, list[str]] = {h: [] for h in HEADER}
        for r, ch in enumerate(kids, start=1):
            cid = str(world.la_child_id[ch])
            hcols["CHILD"].append(log.child_id(rel, r, cid, "CHILD"))
            hcols["SEX"].append(codes.ssda903_sex(str(c.sex[ch]), year))
            hcols["DOB"].append(_d(int(c.birth[ch])))
            hcols["ETHNIC"].append(str(c.ethnicity[ch]))
            upn = str(c.upn[ch]) if c.upn[ch] and c.upn_from[ch] <= ye else ""
            if upn:
                written = log.upn(rel, r, cid, "UPN", upn, str(c.former_upn[ch]), "UN5")
                upn = written if written is not None else "UN5"
            else:
                upn = "UN1" if (ye - c.birth[ch]) / 365.25 < 6 else "UN2"
            hcols["UPN"].append(upn)
            hcols["MOTHER"].append("")
            hcols["MC_DOB"].append("")
        if bom:
            log.record(rel, 0, "", "", "bom", "", "\\ufeff")
        write_csv(world.path(rel), HEADER, hcols, bom=bom)
