"""Every role's pages in a real browser: signed in through the form, walked, checked.

For each role the walk signs in through the sign-in form, then visits every page the role may
see: each URL of the URL conf whose rule lets the role in and whose permission-matrix row says
the role gets it (``test_permission_matrix.MATRIX``, which must name every URL, so a page added
later is walked without editing this file), called with the matrix's owned object, and every
page linked from those (a child on the caseload, a pupil at the school, a load). It submits each
page's GET forms (searches, selectors) and the analyst's linkage decision on a throwaway pair.

On every page: axe-core finds no WCAG 2.2 AA violation (tags ``AXE_TAGS``), the browser logs no
error (a Content-Security-Policy violation is one) and nothing is fetched off-site. A screenshot
of each page is kept under ``SCREENSHOTS/<role>/`` (ADR 0011).

After each walk the audit log is read back: every child-level page (rule ``child_level``) wrote
exactly one row naming the account, its role, the child (for a child's page), from 127.0.0.1,
during that page's request, and a list or export one such row per child it shows (ADR 0016:
the children its profile links name); no other page wrote a row naming a child. And on the
pages of the roles shown suppressed figures, no mart count of 1 to 5 appears, while the same
cells hold such counts in the mart itself (read straight from DuckDB here) and on the analyst's
pages.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import duckdb
import pytest
from django.conf import settings
from django.urls import Resolver404, get_resolver, resolve, reverse
from django.utils import timezone
from lxml import html as lxml_html

from cwsw.indicators.marts import MART
from cwsw.indicators.measures import BY_NAME
from cwsw.web.access import rule_of
from cwsw.web.audit.models import AuditEvent
from cwsw.web.children.keys import child_key
from tests.conftest import PROJECT_ROOT
from tests.web import child_data
from tests.web.test_permission_matrix import MATRIX, _kwargs, url_names
from tests.web.test_web_insight import point_benchmarks_at, published_rows

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"  # the ``accounts`` fixture's
WALKED_ROLES = ("vsh", "adviser", "advisory_teacher", "school_dsl", "analyst", "admin")
# The insight pages show the analyst unsuppressed figures (their scope is every child of the
# LA, pseudonymised) and every other role suppressed ones (cwsw.web.insight.services).
UNSUPPRESSED_ROLES = frozenset({"analyst"})

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOTS = Path(
    os.environ.get("CWSW_SCREENSHOTS") or PROJECT_ROOT / "var" / "test-artefacts" / "screenshots"
)
# Each parameterised URL is walked for at most this many objects (the owned one first).
OBJECTS_PER_URL = 2
DOWNLOAD = re.compile(r"\.(csv|xlsx|parquet|pdf)$")
AUDITED_CHILD_ACTIONS = {"view", "search", "export", "change"}
PROFILE_LINK = re.compile(r'href="/children/([0-9a-f]{20})/"')


# -- what a walk saw ----------------------------------------------------------------------------


@dataclass
class Visit:
    """One request the walk made (a page, a submitted form, a download) and what it left."""

    name: str  # the URL name, e.g. children:profile
    url: str
    child_key: str  # the child named in the URL, if any
    child_level: bool
    started: dt.datetime
    html: str = ""
    rows: list[AuditEvent] = field(default_factory=list)


@dataclass
class Walk:
    role: str
    base: str
    visits: list[Visit] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def axe_source() -> str:
    assert AXE.is_file(), f"{AXE} is missing: run make env"
    return AXE.read_text(encoding="utf-8")


MartKey = tuple[str, str, str, str, str]  # period, measure, cohort, breakdown, its value


@pytest.fixture(scope="module")
def mart_counts(insight_warehouse: Path) -> dict[MartKey, float]:
    """The unsuppressed count measures straight from the mart table (no disclosure control)."""
    counts = [name for name, measure in BY_NAME.items() if measure.is_count]
    with duckdb.connect(str(insight_warehouse), read_only=True) as connection:
        rows = connection.execute(
            f"SELECT period, measure, cohort, breakdown, breakdown_value, value FROM {MART} "
            f"WHERE measure IN ({', '.join('?' for _ in counts)})",
            counts,
        ).fetchall()
    return {(p, m, c, b, v): float(value) for p, m, c, b, v, value in rows}


# -- the walk -----------------------------------------------------------------------------------


def pages_for(role: str) -> list[tuple[str, str]]:
    """(URL name, path) of every page ``role`` may see, from the URL conf and the matrix."""
    found = []
    for name, view in url_names(get_resolver().url_patterns):
        rule = rule_of(view)
        assert rule is not None, f"{name} declares no access rule"
        assert name in MATRIX, f"{name} is not in the permission matrix"
        case = MATRIX[name]
        if rule.public or not rule.allows(role) or case.method != "get":
            continue
        if case.expect.get(role, (403, 403))[0] != 200:
            continue
        kwargs = _kwargs(case.owned)
        found.append((name, reverse(name, kwargs=kwargs or None)))
    return found


def sign_in(page: Any, walk: Walk, axe_source: str) -> None:
    """Sign in through the form. The sign-in page is the same for everybody: the first role's
    walk checks it, and its error state after a wrong password."""
    page.goto(f"{walk.base}{reverse(settings.LOGIN_URL)}")
    if walk.role == WALKED_ROLES[0]:
        check_page(page, walk, axe_source, "sign-in", "00-sign-in")
        page.get_by_label("Username").fill(walk.role)
        page.get_by_label("Password").fill("not the password")
        with page.expect_navigation():
            page.get_by_test_id("sign-in").click()
        assert page.locator(".govuk-error-summary").count() == 1
        check_page(page, walk, axe_source, "sign-in error", "00-sign-in-error")
    page.get_by_label("Username").fill(walk.role)
    page.get_by_label("Password").fill(PASSWORD)
    before, started = audit_count(), timezone.now()
    page.get_by_test_id("sign-in").click()
    page.wait_for_url(lambda url: not urlsplit(url).path.startswith(reverse(settings.LOGIN_URL)))
    # The page signing in lands on (walked again later) wrote its row; the sign-in its own.
    landed = record(walk, page.url[len(walk.base) :], started, before)
    landed.rows = [row for row in landed.rows if row.action != "login"]


def audit_count() -> int:
    return AuditEvent.objects.count()


def new_rows(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("id")[before:])


def check_page(page: Any, walk: Walk, axe_source: str, label: str, shot: str) -> None:
    """axe-core's WCAG 2.2 AA rules on the page as it is now, then a screenshot."""
    page.evaluate(axe_source)  # DevTools evaluation: not inline script, so the CSP allows it
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: "
        "['violations']})",
        AXE_TAGS,
    )
    for violation in result["violations"]:
        targets = [node["target"] for node in violation["nodes"]]
        walk.problems.append(
            f"{walk.role} {label}: axe {violation['id']} ({violation['impact']}) at "
            f"{json.dumps(targets)}: {violation['help']}"
        )
    # Nothing wider than the window (a wide table scrolls in its own region): WCAG 1.4.10.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        walk.problems.append(f"{walk.role} {label}: the page is {overflow}px wider than the window")
    folder = SCREENSHOTS / walk.role
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{shot}.png"), full_page=True)


def url_name(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def record(walk: Walk, url: str, started: dt.datetime, before: int, html: str = "") -> Visit:
    """Note a request the walk made to ``url`` and the audit rows written since ``before``."""
    match = resolve(urlsplit(url).path)
    rule = rule_of(match.func)
    assert rule is not None, f"{url} declares no access rule"
    seen = Visit(
        name=match.view_name,
        url=url,
        child_key=str(match.kwargs.get("key", "")),
        child_level=rule.child_level,
        started=started,
        html=html,
        rows=new_rows(before),
    )
    walk.visits.append(seen)
    return seen


def revisit(page: Any, walk: Walk, url: str) -> None:
    """Open a page already checked again, to use something on it: recorded, not re-checked."""
    before, started = audit_count(), timezone.now()
    page.goto(f"{walk.base}{url}")
    record(walk, url, started, before)


def console_errors(walk: Walk, network: Any, since: int, where: str) -> None:
    for message in network.console_errors[since:]:
        walk.problems.append(f"{walk.role} {where}: console error {message}")


def visit(page: Any, walk: Walk, network: Any, axe_source: str, url: str, source: str) -> Visit:
    """Open ``url`` (a download: click its link on ``source``), check it, record it."""
    path = urlsplit(url).path
    errors_before = len(network.console_errors)
    html = ""
    if DOWNLOAD.search(path):
        assert source, f"{walk.role}: no page links to the download {path}"
        revisit(page, walk, source)
        before, started = audit_count(), timezone.now()
        with page.expect_download() as download:
            page.locator(f'a[href="{path}"]').first.click()
        target = SCREENSHOTS / walk.role / Path(path).name
        download.value.save_as(str(target))
        assert target.stat().st_size > 0
    else:
        before, started = audit_count(), timezone.now()
        response = page.goto(f"{walk.base}{url}")
        assert response is not None and response.status == 200, (walk.role, url)
        html = page.content()
        check_page(page, walk, axe_source, url, f"{len(walk.visits) + 1:02d}-{shot_name(url)}")
    console_errors(walk, network, errors_before, url)
    return record(walk, url, started, before, html)


def shot_name(url: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", url).strip("-") or "home"


def links(page: Any, walk: Walk) -> list[str]:
    """This site's links on the page (path and query), without fragments."""
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != walk.base or not parts.path:
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def submit(page: Any, walk: Walk, network: Any, axe_source: str, button: Any, label: str) -> Visit:
    """Click a form's submit button; check and record the page it leads to."""
    errors_before = len(network.console_errors)
    before, started = audit_count(), timezone.now()
    with page.expect_navigation():
        button.click()
    assert page.url.startswith(walk.base), page.url
    url = page.url[len(walk.base) :]
    shot = f"{len(walk.visits) + 1:02d}-{label}-{shot_name(url)}"[:100]
    check_page(page, walk, axe_source, f"{url} ({label})", shot)
    console_errors(walk, network, errors_before, f"{url} ({label})")
    return record(walk, url, started, before, page.content())


def submit_get_forms(page: Any, walk: Walk, network: Any, axe_source: str, seen: Visit) -> None:
    """Submit each GET form on the page once: a search with a letter typed, a selector with
    its last choice picked. The result is checked as a page of its own."""
    forms = page.locator("main form[method=get]")
    for index in range(forms.count()):
        if index:  # back to the page for its next form
            revisit(page, walk, seen.url)
        form = forms.nth(index)
        for search in form.locator("input[type=search]").all():
            search.fill("o")
        for select in form.locator("select").all():
            values = select.locator("option").evaluate_all("options => options.map(o => o.value)")
            select.select_option(values[-1])
        button = form.locator("button[type=submit], input[type=submit]").first
        submit(page, walk, network, axe_source, button, "form")


def decide_a_pair(page: Any, walk: Walk, network: Any, axe_source: str) -> None:
    """The analyst rejects the first pair on the review queue (the fixture's throwaway pair):
    the POST writes one change row naming the child, then the queue it returns to one view."""
    revisit(page, walk, reverse("data:review"))
    before = audit_count()
    shown = submit(page, walk, network, axe_source, page.get_by_test_id("reject-1"), "decided")
    assert shown.name == "data:review" and "decided=reject" in shown.url, shown.url
    decided = [row for row in shown.rows if row.action == "change"]
    assert [row.object_type for row in decided] == ["linkage_decision"], shown.rows
    # Split the two requests' rows: the decision's (naming the child) and the queue's.
    shown.rows = [row for row in shown.rows if row not in decided]
    walk.visits.append(
        Visit(
            "data:decide",
            reverse("data:decide"),
            child_key(child_data.REVIEW_PAIR[0]),  # the only pair on the fixture's queue
            True,
            shown.started,
            rows=decided,
        )
    )
    assert audit_count() - before == 2


def walk_role(page: Any, network: Any, base: str, role: str, axe_source: str) -> Walk:
    walk = Walk(role, base)
    shutil.rmtree(SCREENSHOTS / role, ignore_errors=True)
    sign_in(page, walk, axe_source)
    queue = [(path, "") for _, path in pages_for(role)]
    assert queue, f"{role} may see no page"
    done: set[str] = set()
    per_name: dict[str, int] = {}
    linked_from: dict[str, str] = {}  # path -> the first page that links to it
    while queue:
        url, source = queue.pop(0)
        path = urlsplit(url).path
        name = url_name(path)
        if path in done or name is None or name.startswith("accounts:log"):
            continue
        view = resolve(path).func
        rule = rule_of(view)
        if rule is None or not rule.allows(role):
            walk.problems.append(f"{role}: a link to {url}, which the role may not see")
            continue
        if match_has_kwargs(path) and per_name.get(name, 0) >= OBJECTS_PER_URL:
            continue
        done.add(path)
        per_name[name] = per_name.get(name, 0) + 1
        source = source or linked_from.get(path, "")
        seen = visit(page, walk, network, axe_source, url, source)
        if seen.html:
            found = links(page, walk)
            for link in found:
                linked_from.setdefault(urlsplit(link).path, url)
            queue += [(link, url) for link in found]
            submit_get_forms(page, walk, network, axe_source, seen)
    if role == "analyst":
        decide_a_pair(page, walk, network, axe_source)
    page.get_by_test_id("sign-out").click()
    page.wait_for_url(f"{base}{reverse(settings.LOGIN_URL)}")
    return walk


def match_has_kwargs(path: str) -> bool:
    return bool(resolve(path).kwargs)


# -- the checks on a finished walk --------------------------------------------------------------


def audit_problems(walk: Walk, account: Any) -> list[str]:
    problems = []
    # Every row the account wrote is one of a request the walk made (or signing in and out).
    written = AuditEvent.objects.filter(user=account).exclude(
        action__in=("login", "login_failed", "logout")
    )
    accounted = {row.pk for seen in walk.visits for row in seen.rows}
    for row in written:
        if row.pk not in accounted:
            problems.append(f"{walk.role}: audit row {row.action} {row.object_type} unaccounted")
    for seen in walk.visits:
        where = f"{walk.role} {seen.url}"
        naming = [r for r in seen.rows if r.child_key]
        if not seen.child_level:
            if naming:
                problems.append(f"{where}: an aggregate page wrote rows naming a child {naming}")
            continue
        if seen.child_key:  # a child's page: one row, naming that child
            if len(seen.rows) != 1:
                problems.append(f"{where}: {len(seen.rows)} audit rows, not 1")
                continue
            keys = [seen.child_key]
        else:  # a list or export: one row per child shown, or one naming nobody (ADR 0016)
            keys = [row.child_key for row in seen.rows]
            problems += list_problems(where, seen, keys)
            if not seen.rows:
                continue
        for row, key in zip(seen.rows, keys, strict=True):
            expected = (account.pk, walk.role, walk.role, key, "127.0.0.1")
            got = (row.user_id, row.actor, row.role, row.child_key, row.ip_address)
            if got != expected or row.action not in AUDITED_CHILD_ACTIONS:
                problems.append(f"{where}: audit row {got} {row.action}, expected {expected}")
            if not seen.started <= row.at <= timezone.now():
                problems.append(f"{where}: audit row at {row.at}, before the page was asked for")
    return problems


def list_problems(where: str, seen: Visit, keys: list[str]) -> list[str]:
    """A list's rows: at least one, all of one page view, each child once, and (on a page that
    links to children's profiles) exactly the children it links to."""
    if not seen.rows:
        return [f"{where}: no audit row"]
    problems = []
    if len({(row.at, row.action, row.object_type, row.object_ref) for row in seen.rows}) != 1:
        problems.append(f"{where}: audit rows of more than one page view")
    if len(set(keys)) != len(keys) or ("" in keys and len(keys) > 1):
        problems.append(f"{where}: audit rows {keys}: a child twice, or a row naming nobody")
    linked = set(PROFILE_LINK.findall(seen.html))
    if linked and linked != set(keys):
        problems.append(f"{where}: audit rows name {sorted(keys)}, the page shows {sorted(linked)}")
    return problems


@dataclass(frozen=True)
class CountCell:
    key: MartKey
    text: str


def count_cells(html: str) -> list[CountCell]:
    """The table cells holding a mart count (a count measure's value; not a rate, ratio or
    share), with the mart row each names in its data attributes."""
    if not html:
        return []
    found = []
    for cell in lxml_html.fromstring(html).iter("td"):
        measure = BY_NAME.get(cell.get("data-measure", ""))
        if measure is None or not measure.is_count or cell.get("data-kind") != "value":
            continue
        key = cast(
            MartKey,
            tuple(
                cell.get(f"data-{a}", "")
                for a in ("period", "measure", "cohort", "breakdown", "value")
            ),
        )
        # lxml-stubs type html.fromstring() as returning a plain _Element, and text_content()
        # as str or bytes; at runtime the cell is an HtmlElement and its text content a str.
        text = cast(str, cast(lxml_html.HtmlMixin, cell).text_content())
        found.append(CountCell(key, text.strip()))
    return found


def as_count(text: str) -> int | None:
    plain = text.replace(",", "")
    return int(plain) if plain.isdigit() else None


def dashboard_pupil_cells(html: str) -> list[str]:
    """The dashboard's absence table's pupil counts (cells ``cell-<group>-pupils``)."""
    return re.findall(r'data-testid="cell-[^"]*-pupils">([^<]*)<', html)


# -- the test -----------------------------------------------------------------------------------


@pytest.fixture
def published_benchmarks(settings: Any, fixtures_dir: Path) -> str:
    """DfE's published files set beside the LA's figures (CWSW_BENCHMARKS_DIR), with an LA
    code so that the region and statistical neighbour columns appear too: the walk checks the
    benchmark tables as it checks every other part of the dashboard. Returns the LA code."""
    folder = fixtures_dir / "dfe-outcomes"
    la_code = next(
        row["old_la_code"]
        for row in published_rows(folder)
        if row["time_period"] == "202425" and row["geographic_level"] == "Local authority"
    )
    point_benchmarks_at(settings, folder, la_code)
    return la_code


@pytest.mark.parametrize("role", WALKED_ROLES)
def test_walk_every_page_of_a_role(
    page: Any,
    network: Any,
    live_server: Any,
    accounts: dict[str, Any],
    insight_site: Path,
    published_benchmarks: str,
    mart_counts: dict[MartKey, float],
    axe_source: str,
    role: str,
) -> None:
    walk = walk_role(page, network, live_server.url, role, axe_source)
    visited = {seen.name for seen in walk.visits}
    expected = {name for name, _ in pages_for(role)}
    assert expected <= visited, f"not walked: {expected - visited}"
    if "insight:dashboard" in visited:  # the benchmark tables were there to be checked
        dashboards = [seen.html for seen in walk.visits if seen.name == "insight:dashboard"]
        assert any('data-kind="statistical_neighbours"' in html for html in dashboards)

    problems = list(walk.problems)
    problems += audit_problems(walk, accounts[role])
    threshold = settings.CWSW.suppression_threshold
    small_in_mart: list[CountCell] = []
    for seen in walk.visits:
        cells = count_cells(seen.html)
        for cell in cells:
            shown = as_count(cell.text)
            raw = mart_counts.get(cell.key)
            if raw is not None and 1 <= raw <= threshold:
                small_in_mart.append(cell)
            if role in UNSUPPRESSED_ROLES:
                if raw is not None and shown is not None and shown != raw:
                    problems.append(f"{role} {seen.url}: {cell.key} shows {shown}, mart {raw}")
            elif shown is not None and 1 <= shown <= threshold:
                problems.append(f"{role} {seen.url}: suppressed count {shown} at {cell.key}")
        if role not in UNSUPPRESSED_ROLES:
            for text in dashboard_pupil_cells(seen.html):
                shown = as_count(text)
                if shown is not None and 1 <= shown <= threshold:
                    problems.append(f"{role} {seen.url}: suppressed count {shown} (dashboard)")
    assert problems == [], "\n".join(problems)

    # The check could have failed: the walk read mart counts of 1 to 5 on this role's pages,
    # shown as counts to the analyst and as a symbol to everyone else.
    assert small_in_mart, f"{role}: no page showed a cell whose mart count is 1 to {threshold}"
    shown_small = [c for c in small_in_mart if as_count(c.text) is not None]
    if role in UNSUPPRESSED_ROLES:
        assert shown_small, "the analyst was shown no small count"
    else:
        assert shown_small == []
    assert network.console_errors == []
    assert network.off_site == []
    # Chromium reports a download as an aborted navigation: those are expected.
    downloads = {
        f"{live_server.url}{seen.url}" for seen in walk.visits if DOWNLOAD.search(seen.url)
    }
    assert [f for f in network.failed if f.split(" ")[0] not in downloads] == []
    assert network.errors == []
