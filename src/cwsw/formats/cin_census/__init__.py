"""CIN census XML returns (DfE children in need census), read into the ``cin_*`` and ``cp_*``
tables in constant memory, by one process or several.

DfE's sources: the children in need census guide and the XML schema of each collection year
(the XSDs in ``../shared/fixtures/cin-census/xsd``; docs/domain.md §3). The modules:

- ``spec``: the census as data: tables, the element each column comes from and how it is
  read, and the changes between collection years the schemas do not say (``YEAR_CHANGES``);
- ``codes``: each year's code lists and the elements each year's schema declares, read from
  ``codes.toml``, which ``tools/cin_census_codes.py`` writes from the XSDs;
- ``reader``: one pass over a file or a part of it: the walk of each ``Child``, its rows and
  the findings about them;
- ``walk``: whether the compiled walk (``cwsw.formats._cin_walk``) or the Python reference
  reads each child;
- ``parts``: the cut of a large file into runs of whole children;
- ``runtime``: ``read_cin_census``, which reads a file in this process or in several reading
  processes (``cwsw.formats.cin_census_worker``), and again in one when the parts disagree.

Whether an XML file is a CIN census at all (and not an SEN2 or workforce return, which share
its ``<Message>`` shape) is ``cwsw.formats.dfe_collections``'s to say, from its header.
"""

from cwsw.formats.cin_census.runtime import read_cin_census
from cwsw.formats.cin_census.spec import (
    CHILD_LEAVES,
    EPISODE_GROUP,
    EPISODE_LEAVES,
    FORMAT,
    ITEM_KEYS,
    ITEMS,
    MODULES,
    SHARED_LEAF,
    TABLES,
    YEAR_CHANGES,
)
from cwsw.formats.cin_census.walk import WALK_VARIABLE, walk_in_use
from cwsw.formats.common import child_id  # the LAchildID rule the compiled walk is given

__all__ = [
    "CHILD_LEAVES",
    "EPISODE_GROUP",
    "EPISODE_LEAVES",
    "FORMAT",
    "ITEMS",
    "ITEM_KEYS",
    "MODULES",
    "SHARED_LEAF",
    "TABLES",
    "WALK_VARIABLE",
    "YEAR_CHANGES",
    "child_id",
    "read_cin_census",
    "walk_in_use",
]
