from django.urls import re_path

from . import views

urlpatterns = [
    # Every path answers the same page (a deep link works like the front page).
    re_path(r'', views.whoami),
]
