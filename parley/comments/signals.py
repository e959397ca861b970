"""What happens to comments, for the apps that act on it (notifications). Each is sent inside
the transaction that made the change, so that what receivers write commits with it."""

from django.dispatch import Signal

# A comment is published and settled: screened, and scored if the site scores (comment=).
comment_published = Signal()
# A comment waits for a moderator (comment=).
comment_held = Signal()
# A reader reported a comment (comment=, report=).
comment_reported = Signal()
