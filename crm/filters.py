"""Pieces every app's list filters share: a user-aware FilterSet, index-backed sorts, the people picker."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from crm.models import User


class ListFilterSet(filters.FilterSet):
    """A FilterSet that knows whose list it filters (`user`, or the request's user for the API)."""

    def __init__(self, data=None, queryset=None, *, request=None, user=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        self.user = user or getattr(request, "user", None)


class SortFilter(filters.ChoiceFilter):
    """`?sort=` with a fixed set of index-backed orders (unknown values are a field error).

    `sorts` maps each key to its ORDER BY (the first is the default); `labels` says each key in words.
    """

    def __init__(self, *args, sorts: dict, labels: dict, **kwargs):
        self.sorts = sorts
        kwargs.setdefault("choices", [(key, labels[key]) for key in sorts])
        kwargs.setdefault("label", _("Sort"))
        kwargs.setdefault("empty_label", None)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return qs.order_by(*self.sorts[value or next(iter(self.sorts))])


def active_people(request):
    """Owner choices: every active colleague, by name."""
    return User.objects.filter(is_active=True).order_by("full_name", "id")
