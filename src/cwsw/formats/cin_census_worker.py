"""A CIN census reading process: ``python -m cwsw.formats.cin_census_worker FILE SHARE SHARES``.

Started by ``cin_census.read_cin_census`` for a large file; writes pickled messages (column
batches, findings, the summary) to stdout for the parent to load.
"""

import sys

from cwsw.formats.cin_census import work

if __name__ == "__main__":
    work(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.stdout.buffer)
