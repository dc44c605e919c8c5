"""The worker: Celery tasks that run foitrack's background jobs (foitrack.services.jobs).

A layer beside web and cli: it uses the services and never the pages or the commands. Started
by `foitrack worker` (and `foitrack scheduler` for the periodic ones), or by Celery's own
command with ``-A foitrack.worker.celery``.
"""
