"""The field's shared vocabulary, which every layer may use and which uses no other layer.

UPN rules (:mod:`.upn`), attendance codes (:mod:`.attendance_codes`), the school calendar
(:mod:`.calendar`) and the labels of groups, cohorts and breakdowns (:mod:`.labels`).
"""
