from django.urls import re_path

from notes.views import notes

from . import views

urlpatterns = [
    re_path(r'^notes/$', notes),
    # Every path answers the same page (a deep link works like the front page).
    re_path(r'', views.whoami),
]
