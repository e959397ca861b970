import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")
application = get_wsgi_application()

from parley.moderation.gate import warm_scorer_in_background  # noqa: E402  (needs Django set up)

warm_scorer_in_background()
