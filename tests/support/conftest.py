"""The support desk on top of the shared world: two support teams with their agents and a support manager,
one queue each, and SLA policies for every priority."""

from dataclasses import dataclass

import pytest

from crm.models import Role, TeamKind
from support.models import Queue
from tests.factories import TeamFactory, UserFactory, make_contact, make_queue, make_sla_policy


@dataclass
class Desk:
    world: object
    support2: object
    agent1: object  # support team 1 (world.support1)
    agent1b: object  # support team 1
    agent2: object  # support team 2
    support_manager: object  # manages support team 1
    queue1: Queue  # support team 1, the default queue
    queue2: Queue  # support team 2
    customer: object  # a contact owned by world.rep_a (sales team 1)


@pytest.fixture
def desk(world) -> Desk:
    support2 = TeamFactory(name="Billing Desk", kind=TeamKind.SUPPORT)
    manager = UserFactory(role=Role.MANAGER, team=world.support1, email="sm@example.com", full_name="Desk Manager",
                          managed_teams=[world.support1])
    for priority, first, resolution in (("low", 480, 2400), ("normal", 240, 1440), ("high", 60, 480),
                                        ("urgent", 30, 240)):
        make_sla_policy(priority=priority, first_response_minutes=first, resolution_minutes=resolution,
                        name=f"{priority.title()} priority")
    return Desk(
        world=world, support2=support2, agent1=world.agent1,
        agent1b=UserFactory(role=Role.SUPPORT_AGENT, team=world.support1, email="s1b@example.com"),
        agent2=UserFactory(role=Role.SUPPORT_AGENT, team=support2, email="s2@example.com"),
        support_manager=manager,
        queue1=make_queue(world.support1, name="Orders & delivery", is_default=True),
        queue2=make_queue(support2, name="Billing"),
        customer=make_contact(world.rep_a, first_name="Sakib", last_name="Hasan", emails=["sakib@example.com"],
                              phones=["01711000001"]),
    )
