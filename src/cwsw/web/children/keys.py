"""Children's pseudonymous keys: what URLs, the audit log and the analyst's pages use.

``key = sha256(pseudonym_key | la_child_id)[:20]`` in hex, computed identically in Python and in
the warehouse's SQL (so a key is resolved without a mapping table). The pseudonym key is a
secret of the deployment (``CWSW_PSEUDONYM_KEY`` or ``<home>/pseudonym_key``): without it a key
cannot be computed from an LA child ID, nor an ID found from a key.
"""

from __future__ import annotations

import hashlib
import re

from django.conf import settings

KEY_LENGTH = 20
KEY_PATTERN = re.compile(rf"^[0-9a-f]{{{KEY_LENGTH}}}$")


def secret() -> str:
    return str(settings.PSEUDONYM_KEY)


def child_key(la_child_id: str) -> str:
    return hashlib.sha256(f"{secret()}|{la_child_id}".encode()).hexdigest()[:KEY_LENGTH]


def is_key(text: str) -> bool:
    return bool(KEY_PATTERN.match(text))


# The same function in DuckDB SQL; the one parameter is the secret.
SQL_KEY = f"substr(sha256(? || '|' || la_child_id), 1, {KEY_LENGTH})"
