"""The web app and the suppression threshold's floor (issue 14): a threshold below the floor
stops the app with what to fix, and one allowed by the unsafe flag is said on every page."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from typing import Any

from django.test import Client

WARNING = 'data-testid="suppression-warning"'


def _page(accounts: dict[str, Any], path: str = "/accounts/login/") -> str:
    client = Client()
    client.force_login(accounts["vsh"])
    return client.get(path).content.decode()


def test_no_warning_at_the_default_threshold(accounts: dict[str, Any]) -> None:
    assert WARNING not in _page(accounts)


def test_an_unsafe_threshold_is_said_on_every_page(accounts: dict[str, Any], settings: Any) -> None:
    settings.CWSW = replace(settings.CWSW, suppression_threshold=1)
    page = _page(accounts)
    assert WARNING in page
    assert "the suppression threshold is 1, below the safe floor of 3" in page


def test_a_threshold_below_the_floor_stops_the_app_with_what_to_fix() -> None:
    env = os.environ | {"CWSW_SUPPRESSION_THRESHOLD": "0"}
    env.pop("CWSW_ALLOW_UNSAFE_SUPPRESSION_THRESHOLD", None)
    done = subprocess.run(
        [sys.executable, "-c", "import cwsw.web.settings"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: ")
    assert "CWSW_SUPPRESSION_THRESHOLD" in last
