"""An advisory teacher's caseload: the children they work with, by LA child ID."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class CaseloadEntry(models.Model):
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="caseload"
    )
    la_child_id = models.CharField(max_length=64)
    added_at = models.DateTimeField(default=timezone.now, editable=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("teacher", "la_child_id"), name="caseload_once"),
        )

    def __str__(self) -> str:
        return f"caseload entry {self.pk}"
