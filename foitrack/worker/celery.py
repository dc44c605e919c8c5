"""For Celery's own command: ``celery -A foitrack.worker.celery worker`` (settings from the
FOITRACK_* environment, as every foitrack command)."""

from foitrack import broker
from foitrack.worker import runtime

app = broker.app_for(runtime.app().config)
