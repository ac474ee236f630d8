"""API conventions shared by every app: pagination and one error format.

Every error answers `{"errors": {field: [messages]}}`; errors that belong to no field use
the key "detail" (or "non_field_errors" for cross-field validation).
(Kept apart from crm.api: DRF imports these while crm.api is still importing DRF.)
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, pagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crm.listing import CappedPaginator


class PageNumberPagination(pagination.PageNumberPagination):
    """Pages of 50 (up to 200); `count` is exact up to 10,000 and estimated above (`count_is_exact`)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data):
        return Response({
            "count": self.page.paginator.count,
            "count_is_exact": self.page.paginator.count_is_exact,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count_is_exact"] = {"type": "boolean"}
        return response


def _as_lists(detail) -> dict:
    if isinstance(detail, dict):
        return {key: value if isinstance(value, list) else [value] for key, value in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {"detail": [detail]}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = {"errors": _as_lists(response.data)}
    return response
