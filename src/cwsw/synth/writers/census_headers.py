"""Column headers of the flattened school census tables, per census term and table.

Copied from the header lines of the liia-tools-pipeline sample extracts (MIT) that the pipeline
reads; the 2025 autumn headers are derived from 2024 autumn in ``school_census.py``.
"""

from __future__ import annotations

HEADERS: dict[str, tuple[str, ...]] = {
    "2024_autumn_fsmperiodsonroll": (
        "pupilonrolltableid", "NativeId", "fsmperiodsonrolltableid",
        "fsmperiodsonrollorderseqcolumn", "sourceid", "fsmstartdate", "fsmenddate", "ukcountry",
    ),
    "2024_autumn_pupilnolongeronroll": (
        "pupilnolongeronrolltableid", "NativeId", "dob", "surname", "forename", "middlenames",
        "preferredsurname", "formersurname", "upn", "formerupn", "uniquelearnernumber", "sex",
        "entrydate", "leavingdate", "pupilnolongeronrollorderseqcolumn", "sourceid",
        "schoolcensustableid", "parttime", "termlysessionspossible", "termlysessionsauthorised",
        "termlysessionsunauthorised", "moveonrollflag", "missingaddress",
        "summerhalfterm2sessionsauthorised", "summerhalfterm2sessionspossible",
        "summerhalfterm2sessionsunauthorised", "qualhrs", "qualhrspreviousyear",
        "nonqualhrspreviousyear", "tlevelqualhrs", "tlevelnonqualhrs", "nonqualhrs",
        "summerhalfterm2sessionseducational", "summerhalfterm2sessionsexceptional",
        "summerhalfterm2sessionscoronavirus", "boarder", "language", "ncyearleaving",
        "mathsgcsehighestpriorattainment", "mathsgcsepriorattainmentyear11",
        "englishgcsehighestpriorattainment", "englishgcsepriorattainmentyear11",
        "mathsgcsefundingexemption", "englishgcsefundingexemption",
        "mathsgcsehighestpriorattainmentpreviousyear",
        "englishgcsehighestpriorattainmentpreviousyear",
    ),
    "2024_autumn_pupilonroll": (
        "pupilonrolltableid", "NativeId", "dob", "surname", "forename", "middlenames",
        "preferredsurname", "formersurname", "upn", "formerupn", "uniquelearnernumber", "sex",
        "entrydate", "pupilonrollorderseqcolumn", "sourceid", "schoolcensustableid",
        "hoursatsetting", "schoollunchtaken", "parttime", "topupfunding",
        "termlysessionspossible", "termlysessionsauthorised", "termlysessionsunauthorised",
        "senunitindicator", "resourcedprovisionindicator", "nonqualhrs", "ftemp", "qualhrs",
        "qualhrspreviousyear", "nonqualhrspreviousyear", "tlevelqualhrs", "tlevelnonqualhrs",
        "moveoffrollflag", "fundedhours", "missingaddress", "duplicatenotfunded",
        "summerhalfterm2sessionspossible", "extendedhours", "eligibilitycode",
        "summerhalfterm2sessionsauthorised", "summerhalfterm2sessionsunauthorised",
        "dafindicator", "summerhalfterm2sessionseducational",
        "summerhalfterm2sessionsexceptional", "summerhalfterm2sessionscoronavirus", "yssa",
        "servicechild", "language", "classtype", "enrolstatus", "boarder", "plaa", "senprovision",
        "ncyearactual", "mathsgcsehighestpriorattainment", "mathsgcsepriorattainmentyear11",
        "englishgcsehighestpriorattainment", "englishgcsepriorattainmentyear11",
        "mathsgcsefundingexemption", "englishgcsefundingexemption",
        "mathsgcsehighestpriorattainmentpreviousyear",
        "englishgcsehighestpriorattainmentpreviousyear", "eyppr", "eyppbf",
    ),
    "2024_autumn_summerhalfterm2sessiondetailsoffroll": (
        "pupilnolongeronrolltableid", "NativeId", "summerhalfterm2sessiondetailsoffrolltableid",
        "summerhalfterm2sessiondetailsoffrollorderseqcolumn", "sourceid", "sessions",
        "attendancereason",
    ),
    "2024_autumn_summerhalfterm2sessiondetailsonroll": (
        "pupilonrolltableid", "NativeId", "summerhalfterm2sessiondetailsonrolltableid",
        "summerhalfterm2sessiondetailsonrollorderseqcolumn", "sourceid", "sessions",
        "attendancereason",
    ),
    "2024_autumn_termlyexclusionsoffroll": (
        "pupilnolongeronrolltableid", "NativeId", "termlyexclusionsoffrolltableid",
        "termlyexclusionsoffrollorderseqcolumn", "sourceid", "startdate", "sessions", "reason1",
        "reason2", "reason3", "category", "senprovision",
    ),
    "2024_autumn_termlyexclusionsonroll": (
        "pupilonrolltableid", "NativeId", "termlyexclusionsonrolltableid",
        "termlyexclusionsonrollorderseqcolumn", "sourceid", "startdate", "sessions", "reason1",
        "reason2", "reason3", "category", "senprovision",
    ),
    "2024_autumn_termlysessiondetailsoffroll": (
        "pupilnolongeronrolltableid", "NativeId", "termlysessiondetailsoffrolltableid",
        "termlysessiondetailsoffrollorderseqcolumn", "sourceid", "sessions", "attendancereason",
    ),
    "2024_autumn_termlysessiondetailsonroll": (
        "pupilonrolltableid", "NativeId", "termlysessiondetailsonrolltableid",
        "termlysessiondetailsonrollorderseqcolumn", "sourceid", "sessions", "attendancereason",
    ),
    "2025_spring_fsmperiod": (
        "pupilonrolltableid", "NativeId", "fsmperiodtableid", "fsmperiodorderseqcolumn",
        "sourceid", "fsmstartdate", "fsmenddate", "ukcountry",
    ),
    "2025_spring_pupilnolongeronroll": (
        "pupilnolongeronrolltableid", "NativeId", "dob", "surname", "forename", "middlenames",
        "preferredsurname", "formersurname", "upn", "formerupn", "uniquelearnernumber", "sex",
        "entrydate", "leavingdate", "pupilnolongeronrollorderseqcolumn", "sourceid",
        "schoolcensustableid", "parttime", "termlysessionspossible", "moveonrollflag",
        "ethnicity", "boarder", "language",
    ),
    "2025_spring_pupilonroll": (
        "pupilonrolltableid", "NativeId", "dob", "surname", "forename", "middlenames",
        "preferredsurname", "formersurname", "upn", "formerupn", "uniquelearnernumber", "sex",
        "entrydate", "pupilonrollorderseqcolumn", "sourceid", "schoolcensustableid",
        "hoursatsetting", "schoollunchtaken", "parttime", "topupfunding", "unitcontacttime",
        "termlysessionspossible", "senunitindicator", "resourcedprovisionindicator",
        "moveoffrollflag", "fundedhours", "missingaddress", "duplicatenotfunded", "extendedhours",
        "eligibilitycode", "dafindicator", "ethnicity", "yssa", "servicechild", "language",
        "classtype", "enrolstatus", "boarder", "plaa", "senprovision", "ncyearactual", "eyppr",
        "eyppbf", "youngcarer",
    ),
    "2025_spring_senneeds": (
        "pupilonrolltableid", "NativeId", "senneedstableid", "senneedsorderseqcolumn", "sourceid",
        "sentyperank", "sentype",
    ),
    "2025_spring_termlyexclusionsoffroll": (
        "pupilnolongeronrolltableid", "NativeId", "termlyexclusionsoffrolltableid",
        "termlyexclusionsoffrollorderseqcolumn", "sourceid", "startdate", "sessions", "reason1",
        "reason2", "reason3", "category", "senprovision",
    ),
    "2025_spring_termlyexclusionsonroll": (
        "pupilonrolltableid", "NativeId", "termlyexclusionsonrolltableid",
        "termlyexclusionsonrollorderseqcolumn", "sourceid", "startdate", "sessions", "reason1",
        "reason2", "reason3", "category", "senprovision",
    ),
    "2025_spring_termlysessiondetailsoffroll": (
        "pupilnolongeronrolltableid", "NativeId", "termlysessiondetailsoffrolltableid",
        "termlysessiondetailsoffrollorderseqcolumn", "sourceid", "sessions", "attendancereason",
    ),
    "2025_spring_termlysessiondetailsonroll": (
        "pupilonrolltableid", "NativeId", "termlysessiondetailsonrolltableid",
        "termlysessiondetailsonrollorderseqcolumn", "sourceid", "sessions", "attendancereason",
    ),
    "2025_summer_fsmperiod": (
        "pupilonrolltableid", "NativeId", "fsmperiodtableid", "fsmperiodorderseqcolumn",
        "sourceid", "fsmstartdate", "fsmenddate", "ukcountry",
    ),
    "2025_summer_pupilnolongeronroll": (
        "pupilnolongeronrolltableid", "NativeId", "dob", "surname", "forename", "middlenames",
        "preferredsurname", "formersurname", "upn", "formerupn", "uniquelearnernumber", "sex",
        "entrydate", "leavingdate", "pupilnolongeronrollorderseqcolumn", "sourceid",
        "schoolcensustableid", "parttime", "termlysessionspossible", "moveonrollflag", "boarder",
        "language",
    ),
    "2025_summer_pupilonroll": (
        "pupilonrolltableid", "NativeId", "dob", "surname", "forename", "middlenames",
        "preferredsurname", "formersurname", "upn", "formerupn", "uniquelearnernumber", "sex",
        "entrydate", "pupilonrollorderseqcolumn", "sourceid", "schoolcensustableid",
        "hoursatsetting", "schoollunchtaken", "parttime", "topupfunding",
        "termlysessionspossible", "senunitindicator", "resourcedprovisionindicator",
        "moveoffrollflag", "fundedhours", "missingaddress", "extendedhours", "eligibilitycode",
        "dafindicator", "yssa", "servicechild", "language", "classtype", "enrolstatus", "boarder",
        "plaa", "senprovision", "ncyearactual", "eyppr", "eyppbf", "expandedhours",
    ),
    "2025_summer_termlyexclusionsoffroll": (
        "pupilnolongeronrolltableid", "NativeId", "termlyexclusionsoffrolltableid",
        "termlyexclusionsoffrollorderseqcolumn", "sourceid", "startdate", "sessions", "reason1",
        "reason2", "reason3", "category", "senprovision",
    ),
    "2025_summer_termlyexclusionsonroll": (
        "pupilonrolltableid", "NativeId", "termlyexclusionsonrolltableid",
        "termlyexclusionsonrollorderseqcolumn", "sourceid", "startdate", "sessions", "reason1",
        "reason2", "reason3", "category", "senprovision",
    ),
    "2025_summer_termlysessiondetailsoffroll": (
        "pupilnolongeronrolltableid", "NativeId", "termlysessiondetailsoffrolltableid",
        "termlysessiondetailsoffrollorderseqcolumn", "sourceid", "sessions", "attendancereason",
    ),
    "2025_summer_termlysessiondetailsonroll": (
        "pupilonrolltableid", "NativeId", "termlysessiondetailsonrolltableid",
        "termlysessiondetailsonrollorderseqcolumn", "sourceid", "sessions", "attendancereason",
    ),
}
