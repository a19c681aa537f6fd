"""Settings of the plexctl demo site.

These are the DEFAULTS. In each mod_wsgi process group, plexctl's group script sets os.environ
(DEMO_DB) before this module is imported, then overrides attributes (GREETING, ...) after.
"""
import os
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = 'plexctl-demo-not-secret'
DEBUG = False
ALLOWED_HOSTS = ['*']
ROOT_URLCONF = 'demo.urls'
INSTALLED_APPS = []
MIDDLEWARE = []
# Django exports TIME_ZONE as TZ into the daemon; say it explicitly.
TIME_ZONE = 'UTC'
USE_TZ = True

# Each instance has its own database; the page only reports which one (it never opens it).
DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.sqlite3',
        'NAME': str(DEMO_DIR / os.environ.get('DEMO_DB', 'data/DEFAULT.sqlite3')),
    }
}

# Overridden per group; a page that says "default settings" means a group served without its script.
GREETING = 'default settings'
