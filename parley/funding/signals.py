"""What happens to money, for the parts that react (receipts, the supporter badge, the bar's
live updates). Sent inside the transaction that wrote the ledger."""

from django.dispatch import Signal

# Money came in for a donation: its first payment or a renewal (donation=, movement=).
donation_paid = Signal()
# Money went out: a refund or a lost dispute (donation=, movement=).
donation_reversed = Signal()
# A campaign's cached totals changed (campaign=): its bar must show the new figures.
campaign_changed = Signal()
