"""The pipeline most sales tests work in (test_models.py sets up its own)."""

import pytest

from sales import services


@pytest.fixture
def pipeline(world):
    return services.create_pipeline(by=world.admin, name="E-commerce B2B",
                                    stages=[("Lead", 10), ("Proposal", 40), ("Negotiation", 70)])
