from django.urls import path

from . import donor_views, views

app_name = "funding"

urlpatterns = [
    path("<slug:slug>/", views.support, name="support"),
    # Stripe's checkout sends the reader back to one of these (actions.py builds them).
    path("<slug:slug>/thanks/", views.thanks, name="thanks"),
    path("<slug:slug>/cancelled/", views.cancelled, name="cancelled"),
    path("<slug:slug>/bar", views.bar, name="bar"),
    path("<slug:slug>/donors/", donor_views.donor_wall, name="donors"),
    # From the receipt: the token names the donation.
    path("wall-name/<str:token>/", donor_views.donor_name, name="donor-name"),
]
