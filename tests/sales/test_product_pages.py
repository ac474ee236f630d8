"""The product catalogue pages: everyone reads, managers and admins add and change products."""

from decimal import Decimal

import pytest
from django.urls import reverse

from sales import services
from sales.models import Product

LIST_QUERIES = 6  # session, user, org; the count, the page, the tags


def product(world, sku, name, **fields):
    return services.save_product(by=world.admin, sku=sku, name=name, unit_price=fields.pop("unit_price", "100"), **fields)


def test_list_shows_active_products_and_searches(world, client_for):
    product(world, "SAR-1", "Jamdani saree", category="Sarees")
    product(world, "PNJ-1", "Cotton panjabi", category="Panjabi")
    product(world, "OLD-1", "Old stock", active=False)
    client = client_for(world.rep_a)
    html = client.get(reverse("sales:products")).content.decode()
    assert "Jamdani saree" in html and "Cotton panjabi" in html and "Old stock" not in html
    html = client.get(reverse("sales:products"), {"q": "jamdani"}).content.decode()
    assert "Jamdani saree" in html and "Cotton panjabi" not in html
    html = client.get(reverse("sales:products"), {"state": "inactive"}).content.decode()
    assert "Old stock" in html and "Jamdani saree" not in html


@pytest.mark.parametrize("size", [3, 8])
def test_list_runs_a_fixed_number_of_queries(world, client_for, django_assert_num_queries, size):
    for i in range(size):
        services.save_product(by=world.admin, sku=f"SKU-{i}", name=f"Product {i}", unit_price="10", tags=[f"tag{i}"])
    client = client_for(world.rep_a)
    client.get(reverse("sales:products"))
    with django_assert_num_queries(LIST_QUERIES):
        assert client.get(reverse("sales:products")).status_code == 200


def test_reps_and_agents_read_but_cannot_add(world, client_for):
    assert client_for(world.agent1).get(reverse("sales:products")).status_code == 200
    for user in (world.rep_a, world.agent1):
        assert client_for(user).get(reverse("sales:product_create")).status_code == 403
        response = client_for(user).post(reverse("sales:product_create"), {"sku": "X", "name": "X", "unit_price": "1"})
        assert response.status_code == 403
    assert not Product.objects.exists()


def test_manager_adds_a_product_with_interest_tags(world, client_for):
    response = client_for(world.manager1).post(reverse("sales:product_create"), {
        "sku": "SAR-2", "name": "Katan saree", "category": "Sarees", "unit_price": "4500.50", "currency": "",
        "active": "on", "tags": "Sarees, Eid campaign"})
    assert response.status_code == 302
    made = Product.objects.get(sku="SAR-2")
    assert (made.unit_price, made.currency) == (Decimal("4500.50"), "BDT")
    assert sorted(made.tags.values_list("name", flat=True)) == ["Eid campaign", "Sarees"]


def test_a_taken_sku_is_refused_beside_the_field(world, client_for):
    product(world, "SAR-1", "Jamdani saree")
    response = client_for(world.manager1).post(reverse("sales:product_create"), {
        "sku": "sar-1", "name": "Another", "unit_price": "10", "active": "on"})
    assert response.status_code == 400
    assert "sku" in response.context["form"].errors
    assert Product.objects.count() == 1


def test_editing_changes_price_and_tags(world, client_for):
    made = product(world, "SAR-1", "Jamdani saree", tags=["Sarees"])
    response = client_for(world.admin).post(reverse("sales:product", args=[made.pk]), {
        "sku": "SAR-1", "name": "Jamdani saree", "unit_price": "5200", "active": "on", "tags": "Wedding"})
    assert response.status_code == 302
    made.refresh_from_db()
    assert made.unit_price == Decimal("5200.00")
    assert list(made.tags.values_list("name", flat=True)) == ["Wedding"]
