"""REST API for tasks: (prefix, viewset, basename) rows that crm/urls.py registers."""

ROUTES = []
