"""Opening a ticket for a caller, the queues overview for managers, the tickets panel of a contact's page."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from support import selectors, services
from support.models import SlaState, Ticket, TicketStatus
from tests.factories import make_ticket

NEW = reverse("support:ticket_new")


# --- New ticket -----------------------------------------------------------------------------------------------


def test_an_agent_opens_a_ticket_for_a_contact_they_serve(client_for, desk):
    make_ticket(desk.queue1, contact=desk.customer, subject="Earlier")  # serving a ticket lets the agent see them
    response = client_for(desk.agent1).post(NEW, {
        "contact": "Sakib Hasan <sakib@example.com>", "channel": "phone", "type": "complaint", "priority": "high",
        "queue": desk.queue1.pk, "subject": "Broken screen", "body": "Called about a broken screen."})
    ticket = Ticket.objects.get(subject="Broken screen")
    assert response.status_code == 302 and response["Location"] == reverse("support:ticket", args=[ticket.pk])
    assert (ticket.contact, ticket.channel, ticket.type, ticket.priority) == (desk.customer, "phone", "complaint",
                                                                            "high")
    assert ticket.created_by == desk.agent1 and ticket.messages.get().author == desk.agent1


def test_a_caller_known_by_email_is_matched_to_their_contact(client_for, desk):
    client_for(desk.agent1).post(NEW, {"email": "sakib@example.com", "channel": "phone", "type": "inquiry",
                                       "priority": "normal", "subject": "Refund status"})
    assert Ticket.objects.get(subject="Refund status").contact == desk.customer


def test_a_caller_unknown_to_the_crm_becomes_a_contact(client_for, desk):
    client_for(desk.agent1).post(NEW, {"email": "new.caller@example.com", "name": "Rina Akter", "channel": "chat",
                                       "type": "inquiry", "priority": "normal", "subject": "Opening hours"})
    ticket = Ticket.objects.get(subject="Opening hours")
    assert ticket.contact.email == "new.caller@example.com" and ticket.queue == desk.queue1  # the default queue


def test_a_ticket_needs_a_customer_and_a_subject(client_for, desk):
    response = client_for(desk.agent1).post(NEW, {"channel": "phone", "type": "inquiry", "priority": "normal",
                                                  "subject": "", "body": "Keep me"})
    html = response.content.decode()
    assert response.status_code == 400 and "Choose a contact, or give the caller" in html
    assert "This field is required." in html and "Keep me</textarea>" in html
    assert not Ticket.objects.exists()


def test_a_contact_the_agent_cannot_see_is_refused(client_for, desk):
    from tests.factories import make_contact

    hidden = make_contact(desk.world.rep_c, first_name="Hidden", last_name="Person", emails=["hidden@example.com"])
    response = client_for(desk.agent1).post(NEW, {"contact": "Hidden Person", "channel": "phone", "type": "inquiry",
                                                  "priority": "normal", "subject": "x"})
    assert response.status_code == 400 and not Ticket.objects.filter(contact=hidden).exists()


def test_the_form_preselects_the_contact_from_the_query(client_for, desk):
    make_ticket(desk.queue1, contact=desk.customer)  # the agent now serves this customer
    html = client_for(desk.agent1).get(NEW + f"?contact={desk.customer.pk}").content.decode()
    assert 'value="Sakib Hasan &lt;sakib@example.com&gt;"' in html


def test_sales_reps_cannot_open_tickets(client_for, desk):
    assert client_for(desk.world.rep_a).get(NEW).status_code == 403
    assert client_for(desk.world.rep_a).post(NEW, {"subject": "x"}).status_code == 403


# --- Queues overview ----------------------------------------------------------------------------------------


def test_the_overview_counts_each_queue_and_each_agents_load(client_for, desk):
    now = timezone.now()
    a = make_ticket(desk.queue1, contact=desk.customer, assignee=desk.agent1)
    b = make_ticket(desk.queue1, contact=desk.customer, assignee=desk.agent1)
    make_ticket(desk.queue1, contact=desk.customer)
    make_ticket(desk.queue2, contact=desk.customer)  # another team's queue: not counted
    Ticket.objects.filter(pk=a.pk).update(sla_state=SlaState.BREACHED)
    solved = make_ticket(desk.queue1, contact=desk.customer, assignee=desk.agent1b)
    services.change_status(ticket=solved, by=desk.agent1b, status=TicketStatus.SOLVED, now=now)
    overview = selectors.queue_overview(user=desk.support_manager, now=now)
    (queue,) = overview["queues"]
    assert (queue.open, queue.unassigned, queue.breached) == (3, 1, 1)
    loads = {load.agent: load for load in overview["agents"]}
    assert (loads[desk.agent1].open, loads[desk.agent1].breached) == (2, 1)
    assert loads[desk.agent1b].solved_this_week == 1 and loads[desk.agent1b].open == 0
    assert desk.agent2 not in loads
    assert b.pk


def test_the_overview_averages_each_agents_ratings_of_the_last_30_days(desk):
    now = timezone.now()
    for rating, days_ago in ((5, 1), (2, 3), (1, 40)):
        ticket = make_ticket(desk.queue1, contact=desk.customer, assignee=desk.agent1)
        ticket = services.change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.SOLVED)
        services.record_csat(ticket=ticket, rating=rating, now=now - timedelta(days=days_ago))
    loads = {load.agent: load for load in selectors.queue_overview(user=desk.support_manager, now=now)["agents"]}
    assert (loads[desk.agent1].csat_average, loads[desk.agent1].csat_count) == (3.5, 2)  # the 40-day-old 1 is out
    assert loads[desk.agent1b].csat_count == 0


def test_solved_before_this_week_is_not_counted(desk):
    dhaka = ZoneInfo("Asia/Dhaka")
    monday = datetime(2026, 11, 23, 12, 0, tzinfo=dhaka)
    ticket = make_ticket(desk.queue1, contact=desk.customer, assignee=desk.agent1b)
    services.change_status(ticket=ticket, by=desk.agent1b, status=TicketStatus.SOLVED, now=monday - timedelta(days=2))
    loads = {load.agent: load for load in selectors.queue_overview(user=desk.support_manager, now=monday)["agents"]}
    assert loads[desk.agent1b].solved_this_week == 0


def test_the_overview_page_is_for_managers_and_admins(client_for, desk):
    url = reverse("support:queues_overview")
    assert client_for(desk.support_manager).get(url).status_code == 200
    assert client_for(desk.world.admin).get(url).status_code == 200
    assert client_for(desk.agent1).get(url).status_code == 403
    assert client_for(desk.world.rep_a).get(url).status_code == 403


def test_the_overview_runs_the_same_queries_for_more_agents_and_tickets(client_for, desk, django_assert_num_queries):
    from crm.models import Role
    from tests.factories import UserFactory

    client = client_for(desk.support_manager)
    url = reverse("support:queues_overview")
    make_ticket(desk.queue1, contact=desk.customer, assignee=desk.agent1)
    client.get(url)  # the session settles on the first request
    with django_assert_num_queries(9):  # + the customers' ratings per agent
        assert "delivery" in client.get(url).content.decode()
    for i in range(4):
        agent = UserFactory(role=Role.SUPPORT_AGENT, team=desk.world.support1, email=f"more{i}@example.com")
        make_ticket(desk.queue1, contact=desk.customer, assignee=agent)
    with django_assert_num_queries(9):
        assert client.get(url).status_code == 200


# --- The contact page's tickets panel -----------------------------------------------------------------------


def test_the_panel_lists_the_contacts_tickets_newest_first(client_for, desk):
    make_ticket(desk.queue1, contact=desk.customer, subject="Older one", now=timezone.now() - timedelta(days=2))
    make_ticket(desk.queue1, contact=desk.customer, subject="Newer one")
    response = client_for(desk.agent1).get(reverse("support:contact_tickets", args=[desk.customer.pk]),
                                           HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.startswith('<section class="card related-panel" id="tickets-panel"')
    assert html.index("Newer one") < html.index("Older one")
    assert reverse("support:ticket_new") + f"?contact={desk.customer.pk}" in html


def test_the_panel_shows_a_rep_only_visible_tickets_and_no_new_link(client_for, desk):
    make_ticket(desk.queue1, contact=desk.customer, subject="Visible to the owner")
    response = client_for(desk.world.rep_a).get(reverse("support:contact_tickets", args=[desk.customer.pk]),
                                                HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Visible to the owner" in html and reverse("support:ticket_new") not in html


def test_the_panel_without_htmx_is_a_small_page(client_for, desk):
    response = client_for(desk.world.rep_a).get(reverse("support:contact_tickets", args=[desk.customer.pk]))
    assert response.status_code == 200 and "<html" in response.content.decode()


def test_the_panel_of_an_invisible_contact_is_404(client_for, desk):
    assert client_for(desk.agent2).get(reverse("support:contact_tickets", args=[desk.customer.pk])).status_code == 404


@pytest.mark.parametrize("count", [2, 12])
def test_the_panel_runs_a_fixed_number_of_queries(client_for, desk, django_assert_num_queries, count):
    for i in range(count):
        make_ticket(desk.queue1, contact=desk.customer, subject=f"T{i}")
    client = client_for(desk.world.rep_a)
    with django_assert_num_queries(8):
        client.get(reverse("support:contact_tickets", args=[desk.customer.pk]), HTTP_HX_REQUEST="true")
    assert Contact.objects.filter(pk=desk.customer.pk).exists()


def test_the_contact_page_loads_the_tickets_panel(client_for, desk):
    html = client_for(desk.world.rep_a).get(reverse("contacts:contact", args=[desk.customer.pk])).content.decode()
    assert 'id="tickets-panel"' in html
    assert reverse("support:contact_tickets", args=[desk.customer.pk]) in html
