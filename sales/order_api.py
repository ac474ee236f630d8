"""REST API for orders: (prefix, viewset, basename) rows that crm/urls.py registers."""

ROUTES = []
