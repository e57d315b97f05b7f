"""Recovery codes: a set of one-time codes that stand in for the authenticator app (ADR 0015).

A set of ``RECOVERY_CODE_COUNT`` (10) codes is made when an app is set up and whenever the
holder asks (after a code from the app). Each is 10 characters from an alphabet without
look-alikes (about 49 bits), shown once as ``xxxxx-xxxxx`` and kept only as a salted scrypt
digest. A code is used at most once: it is marked used in the same transaction that checks it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cwsw.web.accounts.models import RecoveryCode, User

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/i/l
LENGTH = 10
# scrypt's cost: about 16 MB and a few tens of milliseconds per code checked.
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024, "dklen": 32}


def _digest(code: str, salt: bytes) -> str:
    return hashlib.scrypt(code.encode("ascii"), salt=salt, **SCRYPT).hex()


def clean(typed: str) -> str:
    """What a typed code is compared as: lower case, without spaces or hyphens."""
    return "".join(ch for ch in typed.lower() if ch not in " -\t")


def make(user: User) -> list[str]:
    """Replace the account's codes with a new set; return the codes (shown once, then gone)."""
    codes = ["".join(secrets.choice(ALPHABET) for _ in range(LENGTH)) for _ in range(_count())]
    rows = []
    for code in codes:
        salt = secrets.token_bytes(16)
        rows.append(RecoveryCode(user=user, salt=salt.hex(), digest=_digest(code, salt)))
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(rows)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _count() -> int:
    return int(getattr(settings, "RECOVERY_CODE_COUNT", 10))


def left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def use(user: User, typed: str) -> bool:
    """Use one of the account's unused codes: True (and it is spent) if ``typed`` is one."""
    code = clean(typed)
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return False
    with transaction.atomic():
        unused = RecoveryCode.objects.select_for_update().filter(user=user, used_at__isnull=True)
        for row in unused:
            if hmac.compare_digest(_digest(code, bytes.fromhex(row.salt)), row.digest):
                row.used_at = timezone.now()
                row.save(update_fields=["used_at"])
                return True
    return False
