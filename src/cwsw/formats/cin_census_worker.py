"""A CIN census reading process, started by ``cin_census.read_cin_census`` for a large file:
``python -m cwsw.formats.cin_census_worker FILE HEAD START END TAIL CHILDREN LINES``.

Reads its part of the file and writes pickled messages (column batches, findings, a summary)
to stdout for the parent to load.
"""

import signal
import sys

from cwsw.formats.cin_census.parts import Part
from cwsw.formats.cin_census.runtime import work

if __name__ == "__main__":
    # Started in a process group of its own (a terminal's Ctrl-C goes to the parent, which
    # kills its readers); a SIGINT sent to it all the same must not print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    numbers = [int(arg) for arg in sys.argv[2:]]
    work(sys.argv[1], Part(*numbers), sys.stdout.buffer)
