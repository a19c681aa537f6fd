"""One page, answering JSON: which instance served this request, and with which settings."""
import hashlib
import os

from django.conf import settings
from django.http import JsonResponse

try:
    import mod_wsgi
except ImportError:  # outside Apache (manage.py, tests)
    mod_wsgi = None


def whoami(request):
    body = request.body
    return JsonResponse({
        'path': request.path,
        'method': request.method,
        # What the request carried, so a test can see it arrived intact (and what it did not carry).
        'body_length': len(body),
        'body_sha256': hashlib.sha256(body).hexdigest(),
        'cookies': sorted(request.COOKIES),
        'group': getattr(mod_wsgi, 'process_group', None),
        'application_group': getattr(mod_wsgi, 'application_group', None),
        'pid': os.getpid(),
        'remote_user': request.META.get('REMOTE_USER'),
        'env': {'DEMO_DB': os.environ.get('DEMO_DB'), 'PLEXCTL_DATA_DIR': os.environ.get('PLEXCTL_DATA_DIR')},
        'uid': os.getuid(),
        'settings': {
            'GREETING': settings.GREETING,
            'DEBUG': settings.DEBUG,
            'DATABASE': settings.DATABASES['default']['NAME'],
        },
    })
