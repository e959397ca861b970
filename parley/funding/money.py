from decimal import Decimal

from django.utils.formats import number_format

from .models import CURRENCIES

# Narrow symbols, as the product's bar writes dollars ("2,550 $"): readers know the currency
# of the site they are on.
SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "CHF": "CHF",
    "CAD": "$",
    "AUD": "$",
    "SEK": "kr",
    "PLN": "zł",
}


def money(amount: int, currency: str) -> str:
    """Minor units as "2,550 $" ("2.550 $" in German), in the active language: symbol after
    the number, as the funding bar has it in every language; cents only where there are any."""
    digits = CURRENCIES.get(currency, 2)
    major = Decimal(amount).scaleb(-digits)
    places = 0 if major == major.to_integral_value() else digits
    number = number_format(major, places, use_l10n=True, force_grouping=True)
    return f"{number}\xa0{SYMBOLS.get(currency, currency)}"
