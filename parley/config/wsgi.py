import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")
django_application = get_wsgi_application()

# Both need Django set up.
from parley.comments.hotpath import HotReads  # noqa: E402
from parley.moderation.gate import warm_scorer_in_background  # noqa: E402

application = HotReads(django_application)
warm_scorer_in_background()
