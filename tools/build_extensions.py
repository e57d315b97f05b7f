"""Compile cwsw's Cython extensions in place, against the lxml installed in this environment.

``make env`` runs it after syncing the virtual environment (and again whenever the lock, and
so lxml, changes): ``src/cwsw/formats/_cin_walk.pyx`` becomes ``_cin_walk.<abi>.so`` beside it.
The generated C and the object files go to ``var/build`` (git-ignored, as is the ``.so``).
Without the extension the CIN census reader walks each child in Python: the same rows, slower.

    .venv/bin/python tools/build_extensions.py
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "var" / "build"
EXTENSIONS = {"cwsw.formats._cin_walk": "src/cwsw/formats/_cin_walk.pyx"}


def main() -> None:
    import lxml
    from Cython.Build import cythonize
    from setuptools import Extension, setup

    os.chdir(ROOT)
    modules = [
        # (lxml's etree_defs.h defines helpers this module does not use)
        Extension(
            name,
            [source],
            include_dirs=lxml.get_include(),  # type: ignore[attr-defined]
            extra_compile_args=["-Wno-unused-function"],
        )
        for name, source in EXTENSIONS.items()
    ]
    setup(
        name="cwsw-extensions",
        package_dir={"": "src"},
        ext_modules=cythonize(
            modules, build_dir=str(BUILD / "cython"), quiet=True, language_level="3str"
        ),
        script_args=[
            "--quiet",
            "build_ext",
            "--inplace",
            "--build-temp",
            str(BUILD / "temp"),
            "--build-lib",
            str(BUILD / "lib"),
        ],
    )


if __name__ == "__main__":
    main()
