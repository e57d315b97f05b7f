"""Writers for each file of a synthetic LA's folder (docs/data-contracts.md §1)."""
