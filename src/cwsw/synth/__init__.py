"""The synthetic local authority: every return and extract an LA holds, with known truth.

``generate(out, seed=..., pupils=..., faults=...)`` writes the folder that ``cwsw ingest``
reads (docs/data-contracts.md §1), plus ``truth/`` for tests and benchmarks.
"""

from cwsw.synth.generate import SynthSummary, generate

__all__ = ["SynthSummary", "generate"]
