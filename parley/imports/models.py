from django.db import models

from parley.sites.models import Site


class KeptItem(models.Model):
    """Source data Parley has no place for (a wpDiscuz follow, a post rating, a custom UI
    phrase), kept as it came so nothing is lost and an export writes it out again."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="kept_items")
    source = models.CharField(max_length=20)  # the import format
    table = models.CharField(max_length=64)
    key = models.CharField(max_length=150)
    data = models.JSONField()
    reason = models.CharField(max_length=300)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "source", "table", "key"], name="kept_item_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.table} {self.key}"
