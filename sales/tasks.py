"""Thin Celery tasks of the sales app: each calls a service, is idempotent and safe to retry."""
