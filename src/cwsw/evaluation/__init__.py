"""Evaluation of what works: pilot comparisons, cluster trials, effect sizes and cost.

Reads the marts and the intervention log (never raw files); see docs/evaluation.md.
"""
