"""Targeting: explainable need ratings (RAG) from declarative rules, and caseloads.

Reads the cohort timelines and the marts (never raw files); see docs/targeting.md.
"""
