"""Targets the synthetic outcomes are drawn to, by social care group and school phase.

Sources: docs/domain.md §2 and §4 (national figures for England), and the national rows of the DfE's
"Outcomes for children in need" absence table for 2024/25 (``dfe-outcomes/absence_la.csv``) for
the phase split. ``NEVER`` and ``PREVIOUS`` (ever CIN in six years, not at 31 March) are set so
that *all pupils* land on the published all-pupil figures.
"""

from __future__ import annotations

import numpy as np

# Social care group at 31 March of the reference year (mutually exclusive, DfE precedence).
NEVER, PREVIOUS, CINO, CPPO, CLA12 = 0, 1, 2, 3, 4
GROUP_NAMES = ("never", "previous", "CINO", "CPPO", "CLA 12 months")
# School phase (establishments.csv ``phase``).
PRIMARY, SECONDARY, SPECIAL, AP = 0, 1, 2, 3
PHASE_NAMES = ("Primary", "Secondary", "Special", "Alternative provision")

# (persistent, severe) absence by group x phase: share of enrolments missing >= 10% / >= 50%.
ABSENCE_PA_SA = np.array(
    [
        # primary        secondary       special         AP
        [(0.118, 0.005), (0.205, 0.025), (0.33, 0.050), (0.80, 0.38)],  # never
        [(0.235, 0.018), (0.390, 0.080), (0.36, 0.070), (0.85, 0.45)],  # previous
        [(0.343, 0.033), (0.610, 0.201), (0.375, 0.075), (0.923, 0.545)],  # CINO
        [(0.430, 0.040), (0.698, 0.278), (0.584, 0.201), (0.941, 0.602)],  # CPPO
        [(0.075, 0.008), (0.275, 0.095), (0.258, 0.077), (0.742, 0.416)],  # CLA 12 months
    ]
)
# Unauthorised share of absence by group (2024/25 national: CINO 8.2 of 17.4 and so on).
UNAUTHORISED_SHARE = np.array([0.30, 0.40, 0.47, 0.59, 0.39])

# Probability of being in a special school / an AP school (AP only from Year 5).
SPECIAL_SCHOOL = np.array([0.012, 0.04, 0.19, 0.054, 0.12])
AP_SCHOOL = np.array([0.0012, 0.008, 0.03, 0.04, 0.02])

# SEN in mainstream and AP schools (special school pupils all but always have an EHC plan):
# (SEN support K, EHC plan E). With SPECIAL_SCHOOL: CINO any SEN 48%, EHC 27%; all 16%, 4%.
SEN_MAINSTREAM = np.array([(0.105, 0.019), (0.22, 0.05), (0.26, 0.10), (0.27, 0.08), (0.30, 0.18)])
SEN_AP = (0.45, 0.12)
SPECIAL_EHC = 0.98

# FSM eligible on census day.
FSM = np.array([0.21, 0.50, 0.62, 0.66, 0.25])

# Share of pupils with one or more suspensions / a permanent exclusion in the year
# (2020/21: CINO 8.7% and 0.38% against all pupils 2.2% and 0.05%), scaled by phase.
SUSPENSION = np.array([0.016, 0.05, 0.075, 0.075, 0.08])
PERMANENT = np.array([0.0004, 0.0012, 0.0038, 0.004, 0.001])
EXCLUSION_PHASE = np.array([0.35, 2.0, 1.3, 3.0])

# KS2 reading, writing and maths expected standard; Attainment 8 (group means over all
# schools; special school pupils are drawn at their own, lower level).
KS2_RWM = np.array([0.645, 0.45, 0.30, 0.32, 0.35])
KS2_RWM_SPECIAL = 0.03
ATT8 = np.array([48.1, 30.0, 17.3, 16.9, 17.3])
ATT8_SPECIAL = 6.0

# Pupils not in the LA's state schools (independent, elsewhere, electively home educated).
NOT_IN_STATE_SCHOOL = 0.07
