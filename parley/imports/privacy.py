"""A person's address in what imports kept as it came (a wpDiscuz follow names follower and
followed by address): part of their data, and erased with it."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from parley.accounts.privacy import Part, Person, register

from .models import KeptItem


def _kept(person: Person) -> QuerySet[KeptItem]:
    return KeptItem.objects.filter(data__icontains=person.email)


def kept_items_of(person: Person) -> list[dict[str, Any]]:
    return [
        {"site": item.site.name, "source": item.source, "table": item.table, "key": item.key,
         "data": item.data}
        for item in _kept(person).select_related("site").order_by("pk")
    ]  # fmt: skip


def erase_kept_items(person: Person) -> int:
    erased, _detail = _kept(person).delete()
    return erased


register(
    Part(
        name="imported",
        label=gettext_lazy("Items an import kept as they came"),
        export=kept_items_of,
        erase=erase_kept_items,
    )
)
