"""REST API for notifications: (prefix, viewset, basename) rows that crm/urls.py registers."""

ROUTES = []
