"""Capped counts: exact up to the limit, the planner's estimate above it, "more than" while stats lag."""

import pytest
from django.db import connection

from crm import listing
from crm.models import SavedView
from tests.factories import SavedViewFactory


@pytest.fixture
def views(world):
    SavedViewFactory.create_batch(30, owner=world.rep_a)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_savedview")
    return SavedView.objects.all()


def test_counts_exactly_up_to_the_limit(views):
    assert listing.capped_count(views, limit=30) == (30, True)


def test_above_the_limit_the_planner_estimates(views):
    count, exact = listing.capped_count(views, limit=10)
    assert not exact and 20 <= count <= 40  # the planner's idea of 30 rows, not a count


def test_stale_statistics_give_a_lower_bound_not_a_smaller_number(views, monkeypatch):
    monkeypatch.setattr(listing, "planner_estimate", lambda queryset: 3)  # as after a big import, before ANALYZE
    assert listing.capped_count(views, limit=10) == (10, False)


def test_the_paginator_says_when_its_total_is_only_a_lower_bound(views, monkeypatch):
    monkeypatch.setattr(listing, "capped_count", lambda queryset: (listing.EXACT_COUNT_LIMIT, False))
    paginator = listing.CappedPaginator(views.order_by("pk"), 5)
    assert paginator.count == listing.EXACT_COUNT_LIMIT and paginator.count_is_lower_bound
    assert not paginator.count_is_exact
