"""A person's address in what imports kept as it came (a wpDiscuz follow names follower and
followed by address): part of their data, and erased with it."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from parley.accounts.privacy import Part, Person, register

from .load import ADDRESS
from .models import KeptItem


def _kept(person: Person) -> QuerySet[KeptItem]:
    return KeptItem.objects.filter(data__icontains=person.email)


def _others_hidden(data: Any, email: str) -> Any:
    """A kept row may name other people too (the follower of the person followed): their
    addresses are not the person's data."""
    if isinstance(data, dict):
        hidden = {key: _others_hidden(value, email) for key, value in data.items()}
        # A wpDiscuz follow names each side as PREFIX_email, PREFIX_name, PREFIX_id.
        for key, value in data.items():
            if key.endswith("_email") and hidden[key] != value:
                prefix = key.removesuffix("email")
                for sibling in (prefix + "name", prefix + "id"):
                    if sibling in hidden:
                        hidden[sibling] = "(another person)"
        return hidden
    if isinstance(data, list):
        return [_others_hidden(value, email) for value in data]
    if isinstance(data, str):
        return ADDRESS.sub(
            lambda m: m.group(0) if m.group(0).lower() == email else "(another person)", data
        )
    return data


def kept_items_of(person: Person) -> list[dict[str, Any]]:
    return [
        {"site": item.site.name, "source": item.source, "table": item.table, "key": item.key,
         "data": _others_hidden(item.data, person.email)}
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
