"""WSGI entry point for gunicorn."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kentforum.settings.base")

# This process serves web requests: its database sessions get the web's lock and statement
# timeouts (DB_LOCK_TIMEOUT, DB_STATEMENT_TIMEOUT in kentforum/settings/base.py), read when the
# settings load here. The mark is taken off again, so that no process started from this one (or
# from a test run that imports this module after its settings loaded) inherits it.
_marked = "KENTFORUM_WEB_PROCESS" not in os.environ
if _marked:
    os.environ["KENTFORUM_WEB_PROCESS"] = "true"
try:
    application = get_wsgi_application()
finally:
    if _marked:
        del os.environ["KENTFORUM_WEB_PROCESS"]
