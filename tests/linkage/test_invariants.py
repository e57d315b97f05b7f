"""One child to one pupil, one pupil to one child: on the synthetic LA and on random scores."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from ibis import _

from cwsw.linkage import deterministic, probabilistic
from cwsw.warehouse.connection import Warehouse

if TYPE_CHECKING:
    from tests.linkage.conftest import Linked


def test_never_a_child_to_two_pupils_in_a_term_nor_a_pupil_to_two_children(
    linked: Linked,
) -> None:
    with Warehouse.open(linked.la.warehouse_path, read_only=True) as warehouse:
        con = warehouse.ibis
        link = con.table("child_pupil_link")
        enrolment = con.table("pupil_enrolment")
        per_term = con.execute(
            link.join(enrolment, "upn")
            .group_by(["census_term", "la_child_id"])
            .aggregate(pupils=_.upn.nunique())
        )
        per_pupil = con.execute(link.group_by("upn").aggregate(children=_.la_child_id.nunique()))
    assert len(per_term) > 0
    assert per_term.pupils.max() == 1
    assert per_pupil.children.max() == 1
    assert linked.links.la_child_id.is_unique and linked.links.upn.is_unique


pairs_strategy = st.lists(
    st.tuples(
        st.sampled_from([f"c{i}" for i in range(6)]),
        st.sampled_from([f"p{i}" for i in range(6)]),
        st.floats(-10, 30),
    ),
    max_size=30,
    unique_by=lambda t: (t[0], t[1]),
)


@settings(max_examples=60, deadline=None)
@given(pairs_strategy, st.floats(0, 5))
def test_assignment_is_one_to_one_whatever_the_scores(
    rows: list[tuple[str, str, float]], margin: float
) -> None:
    frame = pd.DataFrame(rows, columns=["child_id", "pupil_id", "match_weight"])
    frame["match_probability"] = 1 / (1 + 2.0 ** -frame.match_weight.astype(float))
    result = probabilistic.assign(
        frame, [f"c{i}" for i in range(6)], probabilistic.Thresholds(0.95, 0.2, margin)
    )
    assert result.links.child_id.is_unique and result.links.pupil_id.is_unique
    assert (result.links.match_probability >= 0.95).all()
    assert set(result.bands.band) <= set(probabilistic.BANDS)
    linked = set(result.links.child_id)
    assert set(result.bands[result.bands.band == probabilistic.MATCH].child_id) == linked
    # A review pair never offers a pupil another child was linked to.
    assert not set(result.review.pupil_id) & set(result.links.pupil_id)


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(deterministic.RULES),
            st.sampled_from(["a", "b", "c", "d"]),
            st.sampled_from(["P1", "P2", "P3"]),
        ),
        max_size=14,
    )
)
def test_the_rule_cascade_is_one_to_one(claims: list[tuple[str, str, str]]) -> None:
    rules = []
    for method in deterministic.RULES:
        rows = [(c, u) for m, c, u in claims if m == method]
        rules.append(
            (
                method,
                ibis.memtable(
                    {"la_child_id": [c for c, _ in rows], "upn": [u for _, u in rows]},
                    schema=deterministic.PAIR_SCHEMA,
                ),
            )
        )
    links = ibis.duckdb.connect().execute(deterministic.cascade(rules))
    assert links.la_child_id.is_unique and links.upn.is_unique
    for row in links.itertuples():
        assert (row.match_method, row.la_child_id, row.upn) in claims
