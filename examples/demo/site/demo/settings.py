"""Settings of the plexctl demo site.

These are the DEFAULTS. In each mod_wsgi process group, plexctl's group script sets os.environ
(PLEXCTL_DATA_DIR, the instance's private data directory, and the group's env) before this module
is imported, then overrides attributes (GREETING, ...) after.
"""
import os
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = 'plexctl-demo-not-secret'
DEBUG = False
ALLOWED_HOSTS = ['*']
ROOT_URLCONF = 'demo.urls'
# notes: a model per instance (plexctl's site.init migrates each instance's own database).
INSTALLED_APPS = ['notes']
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
MIDDLEWARE = []
# Django exports TIME_ZONE as TZ into the daemon; say it explicitly.
TIME_ZONE = 'UTC'
USE_TZ = True

# Each instance has its own database, in its private data directory (DEMO_DB, if a group sets it,
# names another file relative to the demo directory); the page only reports which one.
if os.environ.get('DEMO_DB'):
    _DB = DEMO_DIR / os.environ['DEMO_DB']
elif os.environ.get('PLEXCTL_DATA_DIR'):
    _DB = Path(os.environ['PLEXCTL_DATA_DIR']) / 'db.sqlite3'
else:
    _DB = DEMO_DIR / 'data' / 'DEFAULT.sqlite3'
DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.sqlite3',
        'NAME': str(_DB),
    }
}

# Overridden per group; a page that says "default settings" means a group served without its script.
GREETING = 'default settings'
