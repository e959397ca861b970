from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("manage/", views.request_manage_link, name="request-manage"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path("alerts/", views.moderator_alerts, name="alerts"),
    path("sent/", views.sent_mail, name="sent"),
    path("sent/<int:pk>/", views.sent_message, name="sent-message"),
    path("sent/<int:pk>/html", views.sent_message_html, name="sent-message-html"),
]
