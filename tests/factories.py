"""factory_boy factories shared by tests and `seed_demo` (Bengali and English names)."""

import factory
from factory.django import DjangoModelFactory

from crm.models import Role, SavedView, Team, TeamKind, TeamManager, User


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    kind = TeamKind.SALES


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name", locale="bn_BD")
    role = Role.SALES_REP
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def managed_teams(self, create, extracted, **kwargs):
        if create and extracted:
            TeamManager.objects.bulk_create([TeamManager(user=self, team=t) for t in extracted])
        if create:
            self.save()


class SavedViewFactory(DjangoModelFactory):
    class Meta:
        model = SavedView

    name = factory.Sequence(lambda n: f"View {n}")
    target = SavedView.Target.CONTACTS
    query = "stage=lead"
    shared = True
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.owner.team)
    created_by = factory.LazyAttribute(lambda o: o.owner)


def make_contact(owner, **fields):
    """A contact through the service (emails/phones/search text as the app keeps them)."""
    from contacts import services

    fields.setdefault("first_name", "Test")
    return services.create_contact(by=owner, allow_duplicate=True, **fields)


def make_company(owner, **fields):
    from contacts import services

    fields.setdefault("name", f"Company {owner.pk}-{_counter()}")
    return services.create_company(by=owner, **fields)


_seq = iter(range(1, 10**9))


def _counter() -> int:
    return next(_seq)


def make_queue(team, **fields):
    """A support queue of `team` (manual assignment unless told)."""
    from support.models import Queue

    fields.setdefault("name", f"Queue {_counter()}")
    return Queue.objects.create(team=team, **fields)


def make_sla_policy(priority="normal", first_response_minutes=60, resolution_minutes=480, **fields):
    from support.models import SlaPolicy

    fields.setdefault("name", f"{priority} {_counter()}")
    return SlaPolicy.objects.create(priority=priority, first_response_minutes=first_response_minutes,
                                    resolution_minutes=resolution_minutes, **fields)


def make_ticket(queue, contact=None, **fields):
    """A ticket through the service; a customer is created by e-mail when no contact is given."""
    from support import services

    fields.setdefault("subject", "Parcel not delivered")
    fields.setdefault("body", "My order has not arrived.")
    if contact is None:
        fields.setdefault("email", f"customer{_counter()}@example.com")
    return services.open_ticket(queue=queue, contact=contact, **fields)
