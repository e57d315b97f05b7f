# cython: language_level=3str, boundscheck=False, wraparound=False, cdivision=True
"""The compiled walk of one CIN census ``Child``: ``cin_census.reader._Reader._child`` in C.

It reads the child's libxml2 nodes directly through lxml's public C API (no Python proxy, tag
or text object per element) and builds exactly the raw rows the Python walk builds: the same
dicts and keys, the same ``_at`` / ``_ids_at`` / ``_path`` locations and lines, first value
wins, a blank value reads as absent. ``_Reader._child`` is the reference it is tested against
(``tests/formats/test_cin_census_walk.py``) and the fallback where this module is not built.

What the Python walk sees through lxml, this reads from the nodes the same way:

- ``iterdescendants()``: every node below the child in document order, descending into
  elements only (not entity references); only element nodes can match anything, since a
  comment's or processing instruction's ``.tag`` is not a string;
- ``.tag``: the element's name, or ``{uri}name`` when it has a namespace (then it matches no
  name in the spec, so it is given no name here);
- ``.text``: the element's leading run of text and CDATA nodes (skipping XInclude markers),
  joined; ``str.strip()`` of it, done on the bytes for ASCII white space; a text that had
  white space around it is noted, with the text as written, under ``raw["_padded"]``
  (``walk.PADDED``), as the Python walk notes it;
- ``len()``: its children that are elements, comments, entity references or PIs;
- ``.sourceline``: libxml2's ``xmlGetLineNo``, which is the node's own ``line`` field below
  65,535; from there on libxml2 keeps the real line elsewhere, so it is asked through a proxy
  (only group elements' lines are needed, a handful per child).
"""

from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from cpython.unicode cimport PyUnicode_AsUTF8, PyUnicode_DecodeUTF8
from libc.string cimport memcpy, strcmp, strlen

cimport lxml.includes.etreepublic as cetree
from lxml.includes cimport tree

from sys import intern

cetree.import_lxml__etree()

cdef extern from "Python.h":
    dict _PyDict_NewPresized(Py_ssize_t minused)
    PyObject* PyDict_SetDefault(object d, object key, object default) except NULL
    int PyDict_SetItem(object d, object key, object value) except -1
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void* PyUnicode_DATA(object text)

# What an element's name is to the walk (``_Reader._child``'s chain of tests, as data).
cdef enum Role:
    NONE  # matches nothing (or has a namespace)
    CHILD_LEAF  # fills the child's row
    EPISODE_LEAF  # fills the open episode's row
    MODULE_LEAF  # fills the open row of module ``index``
    EPISODE_GROUP  # opens an episode
    MODULE  # opens a row of module ``index``
    ITEM  # makes a row of item ``index``
    SHARED_LEAF  # DateOfInitialCPC: the episode's or Section47's, by its parent
    IDENTIFIERS  # ChildIdentifiers: where the child's IDs are

# Element names are interned per document by libxml2 (its xmlDict), so a small cache from the
# name's address to its ``str`` and role makes tags cheap; each hit is confirmed by comparing
# the bytes, so a reused address can never give a wrong name.
cdef enum:
    NAME_SLOTS = 1024
    MAX_MODULES = 16

cdef struct _Name:
    const char* key  # the libxml2 name this slot was filled from
    PyObject* text  # its str (a reference owned by the slot)
    const char* utf8  # the str's own UTF-8, to confirm a hit
    int role
    int index


cdef inline bint _space(unsigned char c) noexcept nogil:
    # str.strip()'s ASCII white space
    return c == 32 or (9 <= c <= 13) or (28 <= c <= 31)

cdef object _stripped(const char* s, Py_ssize_t n, bint* padded):
    """``s`` decoded and stripped, None when blank; ``padded`` set when anything was."""
    cdef Py_ssize_t start = 0, end = n, i
    cdef bint ascii = True
    while start < end and _space(<unsigned char>s[start]):
        start += 1
    while end > start and _space(<unsigned char>s[end - 1]):
        end -= 1
    if start == end:
        return None
    if start > 0 or end < n:
        padded[0] = True
    for i in range(start, end):
        if <unsigned char>s[i] >= 0x80:
            ascii = False
            break
    if ascii:
        text = PyUnicode_New(end - start, 127)
        memcpy(PyUnicode_DATA(text), s + start, end - start)
        return text
    text = PyUnicode_DecodeUTF8(s + start, end - start, NULL)
    if <unsigned char>s[start] >= 0x80 or <unsigned char>s[end - 1] >= 0x80:
        stripped = text.strip()  # white space beyond ASCII (NBSP and the like)
        if not stripped:
            return None
        if len(stripped) != len(text):
            padded[0] = True
        return stripped
    return text

cdef inline tree.xmlNode* _text_node(tree.xmlNode* node) noexcept nogil:
    """``node`` if it is text or CDATA, skipping XInclude markers; else NULL (lxml's rule)."""
    while node != NULL:
        if node.type == tree.XML_TEXT_NODE or node.type == tree.XML_CDATA_SECTION_NODE:
            return node
        if node.type == tree.XML_XINCLUDE_START or node.type == tree.XML_XINCLUDE_END:
            node = node.next
        else:
            return NULL
    return NULL

cdef object _text(tree.xmlNode* element, bint* padded):
    """``element.text``, stripped; None when it has none or it is blank. ``padded`` is set
    when the stripping took anything off."""
    cdef tree.xmlNode* node = _text_node(element.children)
    cdef tree.xmlNode* more
    if node == NULL:
        return None
    more = _text_node(node.next)
    if more == NULL:
        if node.content == NULL:
            return None
        return _stripped(
            <const char*>node.content, strlen(<const char*>node.content), padded
        )
    joined = _joined(node)
    return _stripped(<const char*>joined, len(joined), padded)

cdef bytearray _joined(tree.xmlNode* node):
    """The UTF-8 of a run of text and CDATA nodes from ``node``, joined."""
    joined = bytearray()
    while node != NULL:
        if node.content != NULL:
            joined += <bytes>(<const char*>node.content)
        node = _text_node(node.next)
    return joined

cdef object _written(tree.xmlNode* element):
    """``element.text`` as written (only asked for a text that was trimmed)."""
    joined = _joined(_text_node(element.children))
    return PyUnicode_DecodeUTF8(<const char*>joined, len(joined), NULL)

cdef inline bint _has_children(tree.xmlNode* element) noexcept nogil:
    """``len(element) > 0``: any child that is an element, comment, entity ref or PI."""
    cdef tree.xmlNode* node = element.children
    while node != NULL:
        if cetree._isElement(node):
            return True
        node = node.next
    return False

cdef long _line(cetree._Element child, tree.xmlNode* node) except? -1:
    """``element.sourceline`` or 0, as ``cin_census.reader._line`` gives it."""
    if node.line != 65535:
        return node.line
    line = cetree.elementFactory(child._doc, node).sourceline
    return line if isinstance(line, int) else 0


cdef class Walker:
    """Walks a ``Child`` into raw rows as ``_Reader._child`` does, given the same spec."""

    cdef _Name names[NAME_SLOTS]
    cdef dict roles  # element name → (role, index)
    cdef tuple module_tables, module_seqs
    cdef tuple item_groups, item_tables, item_keys
    cdef int item_owner[MAX_MODULES]  # -2: the child's row, -1: the episode's, m: module m's
    cdef int s47  # the module whose open row takes DateOfInitialCPC outside CINdetails
    cdef object episode_group
    cdef object child_id

    def __init__(
        self,
        child_leaves,
        episode_leaves,
        modules,
        items,
        item_keys,
        shared_leaf,
        episode_group,
        child_id,
    ):
        roles = {}

        def give(name, role, index=0):
            if name in roles:  # the Python walk's tests would then depend on their order
                raise ValueError(f"{name!r} has two roles in the CIN census spec")
            roles[name] = (role, index)

        for leaf in child_leaves:
            give(leaf, CHILD_LEAF)
        for leaf in episode_leaves:
            give(leaf, EPISODE_LEAF)
        give(episode_group, EPISODE_GROUP)
        give(shared_leaf, SHARED_LEAF)
        give("ChildIdentifiers", IDENTIFIERS)
        if len(modules) > MAX_MODULES or len(items) > MAX_MODULES:
            raise ValueError("too many CIN census modules or items for the compiled walk")
        tables = []
        for m, (tag, (table, seq_column, spec)) in enumerate(modules.items()):
            give(tag, MODULE, m)
            tables.append(table)
            for _, leaf, _ in spec:
                if leaf != shared_leaf:
                    give(leaf, MODULE_LEAF, m)
        if len(set(tables)) != len(tables):
            raise ValueError("two CIN census modules fill one table")
        self.module_tables = tuple(tables)
        self.module_seqs = tuple(seq for _, seq, _ in modules.values())
        self.s47 = tables.index("cin_s47")
        groups, item_tables, keys = [], [], []
        for i, (tag, (group, table, _, _, parent_table)) in enumerate(items.items()):
            give(tag, ITEM, i)
            groups.append(group)
            item_tables.append(table)
            keys.append(tuple(item_keys[parent_table]))
            if parent_table == "cin_child":
                self.item_owner[i] = -2
            elif parent_table == "cin_episode":
                self.item_owner[i] = -1
            else:
                self.item_owner[i] = tables.index(parent_table)
        self.item_groups, self.item_tables, self.item_keys = (
            tuple(groups), tuple(item_tables), tuple(keys)
        )
        self.roles = roles
        self.episode_group = episode_group
        self.child_id = child_id

    def __dealloc__(self):
        cdef int i
        for i in range(NAME_SLOTS):
            Py_XDECREF(self.names[i].text)
            self.names[i].text = NULL

    cdef _Name* _name(self, tree.xmlNode* node) except NULL:
        """The element's name (its ``.tag`` when it has no namespace) and role."""
        cdef const char* name = <const char*>node.name
        cdef size_t slot = ((<size_t>name) >> 3) & (NAME_SLOTS - 1)
        cdef _Name* entry = &self.names[slot]
        if entry.key == name and strcmp(entry.utf8, name) == 0:
            return entry
        text = intern(PyUnicode_DecodeUTF8(name, strlen(name), NULL))
        role, index = self.roles.get(text, (NONE, 0))
        Py_INCREF(text)
        Py_XDECREF(entry.text)
        entry.text = <PyObject*>text
        entry.key = name
        entry.utf8 = PyUnicode_AsUTF8(text)  # kept alive by the slot's reference
        entry.role = role
        entry.index = index
        return entry

    cdef bint _is(self, tree.xmlNode* node, object name) except -1:
        """Whether ``node`` is an element whose ``.tag`` is ``name``."""
        if node == NULL or not cetree._isElement(node) or node.type != tree.XML_ELEMENT_NODE:
            return False
        if cetree._getNs(node) != NULL:
            return False
        return <object>self._name(node).text == name

    def walk(
        self, cetree._Element child, Py_ssize_t number, long lines, dict raw, list ids
    ):
        """Walk one Child (number ``number``; ``lines`` added to its lines) into ``raw``,
        and append (number, LAchildID, line of ChildIdentifiers) to ``ids``."""
        cdef tree.xmlNode* top = child._c_node
        cdef tree.xmlNode* node
        cdef tree.xmlNode* here
        cdef _Name* name
        cdef long ids_line, line
        cdef Py_ssize_t episodes = 0, n
        cdef int m, role, owner_kind
        cdef Py_ssize_t counts[MAX_MODULES]
        cdef list opened = [None] * len(self.module_tables)  # module m's open row
        cdef dict row, target, episode = None, module, item
        cdef object owner
        cdef bint ids_found = False
        cdef bint padded
        cdef list trimmed = raw["_padded"]  # walk.PADDED
        for m in range(MAX_MODULES):
            counts[m] = 0
        path = f"Child[{number}]"
        ids_line = _line(child, top) + lines
        row = _PyDict_NewPresized(16)
        row["_at"] = f"{path} (line {ids_line})"
        row["_ids_at"] = None
        mine = [row]  # this child's rows, to be given its LAchildID at the end
        node = top.children
        while node != NULL:
            here = node
            # the next node in document order, descending into elements only
            if node.type == tree.XML_ELEMENT_NODE and node.children != NULL:
                node = node.children
            else:
                while node != NULL and node.next == NULL:
                    node = node.parent
                    if node == top:
                        node = NULL
                if node != NULL:
                    node = node.next
            if here.type != tree.XML_ELEMENT_NODE or cetree._getNs(here) != NULL:
                continue  # (an element with a namespace: its .tag is "{uri}name")
            name = self._name(here)
            role = name.role
            if role == NONE:
                continue
            tag = <object>name.text
            if role == CHILD_LEAF:
                # (a leaf name holding elements has only blank text: it reads as absent)
                target = row
            elif role == EPISODE_LEAF:
                if episode is None:
                    continue
                target = episode
            elif role == MODULE_LEAF:
                if opened[name.index] is None:
                    continue
                target = <dict>opened[name.index]
            elif role == EPISODE_GROUP:
                if not _has_children(here):
                    continue
                episodes += 1
                line = _line(child, here) + lines
                episode = _PyDict_NewPresized(16)
                episode["episode_seq"] = episodes
                episode["_at"] = f"{path}/CINdetails[{episodes}] (line {line})"
                episode["_path"] = f"{path}/CINdetails[{episodes}]"
                raw["cin_episode"].append(episode)
                mine.append(episode)
                for m in range(len(opened)):
                    opened[m] = None
                    counts[m] = 0
                continue
            elif role == MODULE:
                if episode is None or not _has_children(here):
                    continue
                m = name.index
                counts[m] += 1
                n = counts[m]
                line = _line(child, here) + lines
                module = _PyDict_NewPresized(16)
                module["episode_seq"] = episodes
                module["_at"] = f"{episode['_path']}/{tag}[{n}] (line {line})"
                seq_column = self.module_seqs[m]
                if seq_column is not None:
                    module[seq_column] = n
                raw[self.module_tables[m]].append(module)
                mine.append(module)
                opened[m] = module
                continue
            elif role == ITEM:
                m = name.index
                owner_kind = self.item_owner[m]
                if owner_kind == -2:
                    owner = row
                elif owner_kind == -1:
                    owner = episode
                else:
                    owner = opened[owner_kind]
                padded = False
                text = _text(here, &padded)
                if owner is None or text is None or _has_children(here):
                    continue
                group = self.item_groups[m]
                if not self._is(here.parent, group):
                    continue
                item = {key: owner[key] for key in self.item_keys[m]}
                item[tag] = text
                if owner_kind == -2:
                    line = _line(child, here) + lines
                    item["_at"] = f"{path}/ChildCharacteristics/{group} (line {line})"
                else:
                    item["_at"] = owner["_at"]
                raw[self.item_tables[m]].append(item)
                mine.append(item)
                if padded:
                    trimmed.append((item, tag, _written(here)))
                continue
            elif role == SHARED_LEAF:  # in CINdetails and in Section47: the parent decides
                if self._is(here.parent, self.episode_group):
                    owner = episode
                else:
                    owner = opened[self.s47]
                if owner is None:
                    continue
                target = <dict>owner
            else:  # IDENTIFIERS
                if not ids_found:
                    ids_found = True
                    ids_line = _line(child, here) + lines
                    row["_ids_at"] = f"{path}/ChildIdentifiers (line {ids_line})"
                continue
            # a leaf: the first value wins
            padded = False
            value = _text(here, &padded)
            if padded and value is not None and tag not in target:
                trimmed.append((target, tag, _written(here)))
            PyDict_SetDefault(target, tag, value)
        if not ids_found:
            row["_ids_at"] = f"{path}/ChildIdentifiers (line {ids_line})"
        # Missing and repeated IDs are checked once all children are read (_check_child_ids).
        la_child_id = self.child_id(row.get("LAchildID"))
        ids.append((number, la_child_id, ids_line))
        for each in mine:
            PyDict_SetItem(each, "la_child_id", la_child_id)
        raw["cin_child"].append(row)


cdef extern from "Python.h":
    PyObject* PyDict_GetItemWithError(object d, object key) except? NULL
    object PyList_New(Py_ssize_t size)
    void PyList_SET_ITEM(object items, Py_ssize_t index, object value)


def columns(list rows, tuple keys):
    """``[[row.get(key) for row in rows] for key in keys]``, the raw rows of a batch as
    columns, in C (the Python comprehensions cost about as much as the walk)."""
    cdef Py_ssize_t n = len(rows), i
    cdef PyObject* found
    cdef object key, column, value
    out = []
    for key in keys:
        column = PyList_New(n)
        for i in range(n):
            found = PyDict_GetItemWithError(<dict>rows[i], key)
            value = None if found is NULL else <object>found
            Py_INCREF(value)  # PyList_SET_ITEM steals a reference
            PyList_SET_ITEM(column, i, value)
        out.append(column)
    return out
