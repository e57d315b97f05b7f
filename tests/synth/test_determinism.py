"""Same seed, same bytes; another seed, other files."""

from __future__ import annotations

from pathlib import Path

from cwsw.synth import generate


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_other_files(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=3, pupils=3000, faults="default")
    generate(tmp_path / "b", seed=3, pupils=3000, faults="default")
    generate(tmp_path / "c", seed=4, pupils=3000, faults="default")
    fa, fb, fc = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert len(fa) > 40
    assert fa == fb
    assert set(a.files) <= set(fa)
    data = [f for f in fa if not f.startswith("truth")]
    assert all(fa[f] != fc.get(f) for f in data), [f for f in data if fa[f] == fc.get(f)]
