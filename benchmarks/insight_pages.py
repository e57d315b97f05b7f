"""Insight page times through Django's test client: median of N requests per page and role.

    CWSW_HOME=var/demo .venv/bin/python benchmarks/insight_pages.py [--repeat 20] [PATH ...]

Reads the warehouse and app database of ``CWSW_HOME`` (e.g. ``cwsw demo --no-serve``'s
folder); signs in as the demo accounts (``force_login``, no password needed). The first
request of each page is timed on its own (a cold cache: the disclosed mart is computed), then
the median and 95th percentile of the next ``--repeat``; ``--uncached`` empties the cache
before each (the cost of disclosing the mart on every request, as before the cache). Prints
the machine's load average, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import django

DEFAULT_PATHS = ("/", "/breakdowns/", "/overlaps/", "/schools/")
DEFAULT_ROLES = ("vsh", "analyst", "school_dsl")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="*", default=list(DEFAULT_PATHS))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--roles", default=",".join(DEFAULT_ROLES))
    parser.add_argument(
        "--uncached",
        action="store_true",
        help="empty the disclosed-marts cache before every request (each one re-suppresses, "
        "as the dashboard did before the cache)",
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cwsw.web.settings")
    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from cwsw.indicators.insight import CACHE
    from cwsw.web.accounts.models import User

    setup_test_environment()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    for role in args.roles.split(","):
        client = Client()
        client.force_login(User.objects.get(username=role))
        for path in args.paths:
            start = time.perf_counter()
            status = client.get(path).status_code
            first = time.perf_counter() - start
            times = []
            for _ in range(args.repeat):
                if args.uncached:
                    CACHE.clear()
                start = time.perf_counter()
                client.get(path)
                times.append(time.perf_counter() - start)
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
            print(
                f"{role:18} {path:14} {status}  first {first * 1000:8.1f} ms  "
                f"median {statistics.median(times) * 1000:8.1f} ms  p95 {p95 * 1000:8.1f} ms"
            )
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
