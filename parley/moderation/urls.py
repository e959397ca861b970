from django.urls import path, re_path

from . import views

app_name = "moderation"

urlpatterns = [
    path("", views.queue, name="queue"),
    re_path(
        r"^comments/(?P<comment_id>[0-9]+)/(?P<action>approve|reject|spam)$",
        views.decide,
        name="decide",
    ),
    path("comments/<int:comment_id>/ban", views.ban, name="ban"),
    path("comments/<int:comment_id>/note", views.add_note, name="note"),
    path("bulk", views.decide_many, name="bulk"),
    path("bans/", views.bans, name="bans"),
    path("bans/<int:ban_id>/lift", views.lift_ban, name="lift-ban"),
    path("audit/", views.audit_log, name="audit"),
]
