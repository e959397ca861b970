from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("signin/<str:token>/", views.signin_link, name="signin"),
    path("profile/", views.profile, name="profile"),
    path("profile/data/", views.download_data, name="data"),
]
