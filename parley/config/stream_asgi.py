"""The live-update server: `granian --interface asgi parley.config.stream_asgi:application`."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")
django.setup()

from parley.comments.stream import app as application  # noqa: E402

__all__ = ["application"]
