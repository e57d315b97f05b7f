"""The web app under load: signed-in users on gunicorn over PostgreSQL, p95 and errors (issue 6).

Set-up: the synthetic LA (``cwsw synth``, then ``cwsw ingest``, ``cwsw link``, ``cwsw build``;
kept under ``--dir`` and reused while its size and seed match), a fresh PostgreSQL database
(``cwsw_bench_<pid>``, dropped at the end) migrated as the application database, and one
account per virtual user: designated safeguarding leads of the schools with most linked pupils,
advisory teachers with caseloads of their own, analysts, Virtual School Heads and advisers.

The app is served by gunicorn (``cwsw.web.server.gunicorn_command``) on 127.0.0.1 in a
subprocess. Each virtual user is a thread with its own keep-alive connection and cookies: it
signs in through the real sign-in form (CSRF token and all), finds its children's links on its
own list page (the school page, the caseload), visits each of its pages once (untimed: each
server process fills its caches on its first pages), then for ``--seconds`` walks, with ``--think``
seconds between pages: its list page, three child profiles, an insight page, and so on
(aggregate roles walk the insight pages only). The insight pages are every parameterless page
of the ``insight`` URL namespace that the role may see, whatever exists when the run starts.

Printed: requests, throughput, p50 / p95 / p99 per page type and overall, errors (any
response that is not 2xx, a redirect to the sign-in page included, and any failed
connection), and the load average before and after. Exit status 1 if p95 >= ``--p95-ms`` or
there was any error, unless ``--no-assert``. The machine may be shared: quote the load
average with the figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
POSTGRES = os.environ.get("CWSW_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SIGN_IN = "/accounts/sign-in/"
# Who the virtual users are, in turn: child-level roles (the heavy pages) twice as often.
ROLE_MIX = ("school_dsl", "advisory_teacher", "school_dsl", "advisory_teacher", "vsh", "adviser")
ANALYST_EVERY = 7  # every seventh user is an analyst instead
CASELOAD_SIZE = 12  # cwsw.web.accounts.services.DEMO_CASELOAD_SIZE
PROFILES_PER_LIST = 3
TIMEOUT_SECONDS = 300
CHILD_LINK = re.compile(r'href="(/children/[0-9a-f]{20}/)"')
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


# --- set-up --------------------------------------------------------------------------------


def cwsw(*args: str, env: dict[str, str], log: Path) -> None:
    with log.open("a") as out:
        done = subprocess.run(
            [sys.executable, "-m", "cwsw.cli", *args], env=env, stdout=out, stderr=out
        )
    if done.returncode:
        raise SystemExit(f"cwsw {args[0]} failed (status {done.returncode}): see {log}")


def build_la(directory: Path, pupils: int, seed: int, env: dict[str, str]) -> str:
    """Generate, ingest, link and build the synthetic LA, unless the same one is there."""
    stamp = directory / "web_load.json"
    wanted = {"pupils": pupils, "seed": seed}
    warehouse = directory / "warehouse.duckdb"
    if warehouse.exists() and stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return f"reused {directory}"
    started = time.perf_counter()
    if warehouse.exists():
        warehouse.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    la, log = directory / "la", directory / "web_load_build.log"
    cwsw("synth", "--out", str(la), "--pupils", str(pupils), "--seed", str(seed), env=env, log=log)
    cwsw("ingest", str(la), env=env, log=log)
    cwsw("link", env=env, log=log)
    cwsw("build", env=env, log=log)
    stamp.write_text(json.dumps(wanted))
    return f"built in {time.perf_counter() - started:.0f} s"


def database_name() -> str:
    return f"cwsw_bench_{os.getpid()}"


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on ``server_url``'s server; dropped afterwards."""
    import psycopg

    name = database_name()
    with closing(psycopg.connect(server_url, autocommit=True)) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(server_url)._replace(path=f"/{name}").geturl()
    finally:
        with closing(psycopg.connect(server_url, autocommit=True)) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class VirtualUser:
    username: str
    role: str
    pages: list[str]  # the insight pages this role may see
    list_page: str = ""  # the school page or the caseload
    children: list[str] = field(default_factory=list)  # profile paths (analysts: given)


def roles_for(users: int) -> list[str]:
    return [
        "analyst" if (i + 1) % ANALYST_EVERY == 0 else ROLE_MIX[i % len(ROLE_MIX)]
        for i in range(users)
    ]


def insight_pages(role: str) -> list[str]:
    """Every parameterless page of the insight namespace that ``role`` may see."""
    from django.urls import URLPattern, reverse

    from cwsw.web.access import rule_of
    from cwsw.web.insight import urls

    found = []
    for pattern in urls.urlpatterns:
        if not isinstance(pattern, URLPattern) or pattern.pattern.regex.groups:
            continue
        rule = rule_of(pattern.callback)
        if rule is not None and rule.allows(role) and pattern.name:
            found.append(reverse(f"{urls.app_name}:{pattern.name}"))
    return found


def create_accounts(users: int, password: str, insight: bool = True) -> list[VirtualUser]:
    """One account per virtual user (Django is set up on the benchmark's database)."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.urls import reverse

    from cwsw.web.accounts.models import User
    from cwsw.web.children import keys
    from cwsw.web.children import services as children

    by_school = children.linked_pupils_by_school()
    if not by_school:
        raise SystemExit("the warehouse has no linked pupils on roll")
    schools = sorted(by_school, key=lambda s: (-len(by_school[s]), s))
    linked = sorted({child for ids in by_school.values() for child in ids})
    hashed = make_password(password)  # one hash: PBKDF2 twenty times is set-up time wasted
    made: list[VirtualUser] = []
    with transaction.atomic():
        counts: dict[str, int] = {}
        for role in roles_for(users):
            n = counts.get(role, 0)
            counts[role] = n + 1
            username = f"bench_{role}_{n + 1:02d}"
            user = User(username=username, role=role, password=hashed)
            virtual = VirtualUser(username, role, insight_pages(role) if insight else [])
            if role == "school_dsl":
                user.school_laestab = schools[n % len(schools)]
                virtual.list_page = reverse("children:school")
            user.save()
            if role == "advisory_teacher":
                start = (n * CASELOAD_SIZE) % max(1, len(linked) - CASELOAD_SIZE)
                children.set_caseload(user, linked[start : start + CASELOAD_SIZE], added_by=None)
                virtual.list_page = reverse("children:caseload")
            if role == "analyst":
                sample = random.Random(n).sample(linked, min(30, len(linked)))
                virtual.children = [
                    reverse("children:profile", kwargs={"key": keys.child_key(c)}) for c in sample
                ]
            made.append(virtual)
    return made


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def workers_cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by the gunicorn master's worker processes."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process has gone
            continue
        if int(fields[1]) == master:  # ppid; then utime and stime are fields 14 and 15
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def served(env: dict[str, str], workers: int, threads: int) -> Iterator[tuple[int, int]]:
    from cwsw.web.server import gunicorn_command

    port = free_port()
    command = gunicorn_command(HOST, port, workers=workers, threads=threads)
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited with status {process.returncode}")
            try:
                with closing(http.client.HTTPConnection(HOST, port, timeout=5)) as probe:
                    probe.request("GET", SIGN_IN)
                    if probe.getresponse().status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not answer within 90 s")
            time.sleep(0.2)
        yield port, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the virtual users ---------------------------------------------------------------------


class Browser:
    """One user's keep-alive connection and cookies (what a browser keeps between pages)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        # Generous: a cold server process fills its caches on its first pages (seconds on a
        # loaded machine); a slow page in the run is caught by the percentiles, not here.
        self.connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT_SECONDS)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        """``(status, Location header, body)``; reconnects once if the server closed the socket."""
        headers = {"Host": f"{HOST}:{self.port}", "User-Agent": "cwsw-web-load"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers.get("Location", ""), text

    def sign_in(self, username: str, password: str) -> None:
        status, _, page = self.request("GET", SIGN_IN)
        token = CSRF_FIELD.search(page)
        if status != 200 or token is None:
            raise RuntimeError(f"sign-in page: status {status}, CSRF token found: {bool(token)}")
        form = {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
        status, location, _ = self.request("POST", SIGN_IN, form)
        if status != 302 or location.startswith(SIGN_IN):
            raise RuntimeError(f"signing in {username}: status {status}, to {location!r}")


def page_type(path: str) -> str:
    if path.startswith("/children/"):
        return "child profile"
    if path == "/school/":
        return "school page"
    if path == "/caseload/":
        return "caseload"
    return f"insight {path}"


def walk(user: VirtualUser) -> Iterator[str]:
    """The pages ``user`` visits, in order, for ever."""
    insight = list(user.pages)
    children = list(user.children)
    n_insight = n_child = 0
    while user.list_page or children or insight:  # an aggregate role with no insight: idle
        if user.list_page:
            yield user.list_page
        for _ in range(PROFILES_PER_LIST if children else 0):
            yield children[n_child % len(children)]
            n_child += 1
        if insight:
            yield insight[n_insight % len(insight)]
            n_insight += 1


@dataclass
class Sample:
    page: str
    seconds: float
    error: str  # "" when the page came back 2xx


def run_user(
    user: VirtualUser,
    password: str,
    port: int,
    think: float,
    ready: threading.Barrier,
    stop: threading.Event,
    out: list[Sample],
) -> None:
    browser = Browser(port)
    try:
        browser.sign_in(user.username, password)
        if user.list_page:  # find the user's own children, as they would: on their list page
            status, _, page = browser.request("GET", user.list_page)
            if status != 200:
                raise RuntimeError(f"{user.list_page}: status {status}")
            user.children = sorted(set(CHILD_LINK.findall(page)))
        # Warm up, untimed: each process builds its caches on its first pages (the insight
        # marts, the child pages' facts); the run measures the steady state after that.
        for path in [*user.pages, *user.children[:1]]:
            status, _, _ = browser.request("GET", path)
            if status != 200:
                raise RuntimeError(f"{path}: status {status}")
    except Exception as error:
        out.append(Sample("set-up", 0.0, f"{type(error).__name__}: {error}"))
        ready.abort()
        return
    pace = random.Random(user.username)
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        return
    for path in walk(user):
        if stop.is_set():
            break
        started = time.perf_counter()
        try:
            status, location, _ = browser.request("GET", path)
            outcome = "" if 200 <= status < 300 else f"status {status} {location}".strip()
        except (OSError, http.client.HTTPException) as failure:
            outcome = type(failure).__name__
        out.append(Sample(page_type(path), time.perf_counter() - started, outcome))
        if think and not stop.is_set():
            stop.wait(pace.uniform(0.5 * think, 1.5 * think))
    browser.connection.close()


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (the value below which p% of the samples lie)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def load(
    users: list[VirtualUser], password: str, port: int, seconds: float, think: float, master: int
) -> tuple[list[Sample], float, float]:
    """The samples of the timed run, its length and the server's CPU seconds in it."""
    samples: list[Sample] = []  # list.append is atomic: one list for every thread
    ready = threading.Barrier(len(users) + 1)
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=run_user, args=(u, password, port, think, ready, stop, samples), daemon=True
        )
        for u in users
    ]
    for thread in threads:
        thread.start()
    try:
        ready.wait(timeout=600)  # everybody signed in and found their children
    except threading.BrokenBarrierError:
        stop.set()
        return samples, 0.0, 0.0
    cpu_before = workers_cpu_seconds(master)
    started = time.perf_counter()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.perf_counter() - started
    return samples, elapsed, workers_cpu_seconds(master) - cpu_before


def report(samples: list[Sample], elapsed: float) -> dict[str, Any]:
    by_type: dict[str, list[Sample]] = {}
    for sample in samples:
        by_type.setdefault(sample.page, []).append(sample)
    rows: dict[str, dict[str, float]] = {}
    for name, group in [*sorted(by_type.items()), ("overall", samples)]:
        ms = [1000 * s.seconds for s in group]
        rows[name] = {
            "requests": len(group),
            "errors": sum(1 for s in group if s.error),
            "p50_ms": percentile(ms, 50) if ms else 0.0,
            "p95_ms": percentile(ms, 95) if ms else 0.0,
            "p99_ms": percentile(ms, 99) if ms else 0.0,
        }
    print(f"{'page':<34}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for name, row in rows.items():
        print(
            f"{name:<34}{row['requests']:>9,}{row['errors']:>8,}"
            f"{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}{row['p99_ms']:>9.1f}"
        )
    errors = [s.error for s in samples if s.error]
    for kind in sorted(set(errors)):
        print(f"  error: {kind} x {errors.count(kind)}")
    throughput = len(samples) / elapsed if elapsed else 0.0
    print(f"requests: {len(samples):,} in {elapsed:.1f} s; throughput: {throughput:.1f} req/s")
    print(f"errors: {len(errors)}")
    return {"pages": rows, "elapsed_s": elapsed, "throughput": throughput, "errors": len(errors)}


# --- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="concurrent signed-in users")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the timed run")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean seconds between a user's pages (0: none)"
    )
    parser.add_argument("--pupils", type=int, default=30_000, help="size of the synthetic LA")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dir", type=Path, help="where the LA is kept (default var/bench/...)")
    parser.add_argument(
        "--warehouse", type=Path, help="serve this built warehouse instead (no synthetic LA made)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument(
        "--no-insight", action="store_true", help="leave the insight pages out of every walk"
    )
    parser.add_argument("--p95-ms", type=float, default=200.0, help="the p95 target")
    parser.add_argument("--postgres", default=POSTGRES, help="a PostgreSQL server to work on")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--no-assert", action="store_true", help="exit 0 whatever the figures")
    args = parser.parse_args()
    directory = (
        args.dir or ROOT / "var" / "bench" / f"web_load_{args.pupils}_{args.seed}"
    ).resolve()
    load_before = os.getloadavg()
    with fresh_database(args.postgres) as database_url:
        env = os.environ | {
            "CWSW_HOME": str(directory),
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "cwsw.web.settings",
            "CWSW_DEBUG": "0",
            # The timed walk is of pages after sign-in; the second factor is one more form at
            # sign-in (outside the walk), so the virtual users sign in with a password alone.
            "CWSW_REQUIRE_TOTP_FOR_CHILD_LEVEL": "0",
        }
        if args.warehouse:
            env["CWSW_WAREHOUSE"] = str(args.warehouse.resolve())
            print(f"warehouse: {args.warehouse}")
        else:
            env.pop("CWSW_WAREHOUSE", None)
            built = build_la(directory, args.pupils, args.seed, env)
            print(f"synthetic LA, {args.pupils:,} pupils (seed {args.seed}): {built}")
        os.environ.update(env)
        from cwsw.web import server

        server.setup()  # Django on the benchmark's database, migrated
        from django.db import connections

        password = secrets.token_urlsafe(16)
        users = create_accounts(args.users, password, insight=not args.no_insight)
        connections.close_all()
        mix = ", ".join(
            f"{r} {sum(u.role == r for u in users)}" for r in dict.fromkeys(roles_for(args.users))
        )
        print(
            f"{len(users)} users ({mix}); gunicorn {args.workers} workers x {args.threads} threads"
        )
        with served(env, args.workers, args.threads) as (port, master):
            samples, elapsed, cpu = load(users, password, port, args.seconds, args.think, master)
    load_after = os.getloadavg()
    figures = report(samples, elapsed)
    # What a page costs the server, whatever else the machine is doing: the quiet-machine guide.
    per_request = 1000 * cpu / len(samples) if samples else 0.0
    figures["server_cpu_ms_per_request"] = per_request
    cores = os.cpu_count() or 1
    capacity = 1000 * cores / per_request if per_request else 0.0
    print(
        f"server CPU: {cpu:.1f} s in the run, {per_request:.1f} ms per request "
        f"(all {cores} cores would serve ~{capacity:.0f} req/s)"
    )
    figures["load_average_before"] = load_before
    figures["load_average_after"] = load_after
    figures["database"] = database_name()  # dropped by now
    figures["settings"] = {k: str(v) for k, v in vars(args).items()}
    print(
        "load average (1, 5, 15 min): before "
        + " ".join(f"{x:.2f}" for x in load_before)
        + ", after "
        + " ".join(f"{x:.2f}" for x in load_after)
        + f" on {os.cpu_count()} cores"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    p95 = figures["pages"]["overall"]["p95_ms"]
    failed = figures["errors"] > 0 or elapsed == 0.0 or p95 >= args.p95_ms
    verdict = "FAIL" if failed else "PASS"
    target = f"target < {args.p95_ms:.0f}"
    print(f"{verdict}: overall p95 {p95:.1f} ms ({target}), errors {figures['errors']}")
    return 1 if failed and not args.no_assert else 0


if __name__ == "__main__":
    sys.exit(main())
