"""REST API for campaigns: (prefix, viewset, basename) rows that crm/urls.py registers."""

ROUTES = []
