"""The customer's side of the desk, no login: the web form, following a ticket by its link, the CSAT rating, and
the inbound e-mail webhook (authenticated by a shared secret, not a session).

Pages use the small public layout (templates/support/public/base.html), never the app shell. Posts from a
client address are rate-limited through the shared cache, so every web process counts the same posts.
"""

import hmac
import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from crm.auth import client_ip
from crm.views import form_errors_from
from support import inbound, mail
from support.csat import ticket_for_csat_token
from support.models import CsatResponse, MessageKind, Ticket, TicketChannel, TicketStatus, TicketType
from support.services import add_customer_message, open_ticket, record_csat

log = logging.getLogger(__name__)

#: Posts a client address may make to the public forms per window.
RATE_LIMIT = 20
RATE_WINDOW_SECONDS = 3600
#: The largest raw e-mail the webhook accepts.
MAX_INBOUND_BYTES = 25 * 1024 * 1024
_SUBMITTED = "support_submitted_ticket"


# --- Forms --------------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files (checked for kind and size by the service that stores them)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


PUBLIC_TYPES = [(t.value, t.label) for t in (TicketType.INQUIRY, TicketType.COMPLAINT, TicketType.FEEDBACK,
                                               TicketType.REQUEST)]


class PublicTicketForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=30, required=False)
    type = forms.ChoiceField(label=gettext_lazy("What is it about?"), choices=PUBLIC_TYPES,
                             initial=TicketType.INQUIRY)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=250)
    message = forms.CharField(label=gettext_lazy("Message"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 8}))
    order_number = forms.CharField(label=gettext_lazy("Order number"), max_length=60, required=False,
                                   help_text=gettext_lazy("If it is about an order."))
    attachments = MultipleFileField(label=gettext_lazy("Attachments"))
    #: The honeypot: hidden from people (CSS and aria-hidden), filled in by bots.
    website = forms.CharField(label=gettext_lazy("Website"), required=False,
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))

    def visible_fields(self):
        return [field for field in super().visible_fields() if field.name != "website"]


class CustomerReplyForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("Your message"), max_length=20_000,
                           widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label=gettext_lazy("Attachments"))


class CsatForm(forms.Form):
    rating = forms.TypedChoiceField(label=gettext_lazy("How satisfied are you with our help?"), coerce=int,
                                    choices=[(i, str(i)) for i in range(5, 0, -1)], widget=forms.RadioSelect)
    comment = forms.CharField(label=gettext_lazy("Anything you want to tell us?"), max_length=2000, required=False,
                              widget=forms.Textarea(attrs={"rows": 4}))


# --- Helpers ------------------------------------------------------------------------------------


def over_rate_limit(request, scope: str) -> bool:
    """Count this post against the client address's budget for `scope`; True once the budget is spent."""
    key = f"support:public:{scope}:{client_ip(request)}"
    if cache.add(key, 1, timeout=RATE_WINDOW_SECONDS):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS)
        return False
    return count > RATE_LIMIT


def too_many(request):
    return render(request, "support/public/rate_limited.html", status=429)


def _public_ticket(token: str) -> Ticket:
    return get_object_or_404(Ticket.objects.select_related("contact", "csat"), public_token=token)


# --- The web form -------------------------------------------------------------------------------


class PublicNewTicketView(View):
    template = "support/public/new.html"

    def get(self, request):
        return render(request, self.template, {"form": PublicTicketForm()})

    def post(self, request):
        if over_rate_limit(request, "new"):
            return too_many(request)
        form = PublicTicketForm(request.POST, request.FILES)
        if form.data.get("website"):
            log.info("support web form: honeypot filled from %s", client_ip(request))
            request.session.pop(_SUBMITTED, None)
            return redirect("support:public_thanks")  # looks like success to the bot; nothing is created
        if form.is_valid():
            data = form.cleaned_data
            body = data["message"]
            if data["order_number"].strip():
                body += "\n\n" + _("Order number: %(number)s") % {"number": data["order_number"].strip()}
            try:
                ticket = open_ticket(
                    subject=data["subject"], body=body, channel=TicketChannel.WEB_FORM, type=data["type"],
                    email=data["email"], phone=data["phone"], name=data["name"], attachments=data["attachments"],
                    notify_customer=True)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                request.session[_SUBMITTED] = ticket.public_token
                return redirect("support:public_thanks")
        return render(request, self.template, {"form": form}, status=400)


class PublicThanksView(View):
    def get(self, request):
        token = request.session.get(_SUBMITTED)
        ticket = Ticket.objects.filter(public_token=token).first() if token else None
        return render(request, "support/public/thanks.html", {
            "ticket": ticket, "follow_url": mail.follow_url(ticket) if ticket else ""})


# --- Following a ticket -------------------------------------------------------------------------


class PublicTicketView(View):
    """The customer's view of their ticket: the public conversation (never internal notes) and a reply form."""

    template = "support/public/ticket.html"

    def context(self, ticket: Ticket, form=None) -> dict:
        conversation = (ticket.messages.exclude(kind=MessageKind.NOTE).select_related("author", "author_contact")
                        .prefetch_related("attachments").order_by("created_at", "id"))
        return {"ticket": ticket, "conversation": conversation, "form": form or CustomerReplyForm(),
                "can_reply": ticket.status != TicketStatus.CLOSED}

    def get(self, request, token):
        ticket = _public_ticket(token)
        return render(request, self.template, self.context(ticket))

    def post(self, request, token):
        ticket = _public_ticket(token)
        if over_rate_limit(request, "reply"):
            return too_many(request)
        form = CustomerReplyForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                add_customer_message(ticket=ticket, body=form.cleaned_data["body"], channel=TicketChannel.WEB_FORM,
                                     attachments=form.cleaned_data["attachments"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Thank you, your message was added to the ticket."))
                return redirect("support:public_ticket", token=token)
        return render(request, self.template, self.context(ticket, form), status=400)


# --- CSAT ---------------------------------------------------------------------------------------


class CsatView(View):
    """Rate a solved ticket once, from the link in the CSAT mail (a signed token; a bad one is a 404)."""

    template = "support/public/csat.html"

    def ticket(self, token: str) -> Ticket:
        try:
            return ticket_for_csat_token(token)
        except signing.BadSignature:
            raise Http404 from None

    def already(self, request, ticket):
        answer = CsatResponse.objects.filter(ticket=ticket).first()
        return render(request, "support/public/csat_done.html", {"ticket": ticket, "answer": answer,
                                                                 "already": True})

    def get(self, request, token):
        ticket = self.ticket(token)
        if CsatResponse.objects.filter(ticket=ticket).exists():
            return self.already(request, ticket)
        return render(request, self.template, {"ticket": ticket, "form": CsatForm()})

    def post(self, request, token):
        ticket = self.ticket(token)
        if CsatResponse.objects.filter(ticket=ticket).exists():
            return self.already(request, ticket)
        form = CsatForm(request.POST)
        if form.is_valid():
            try:
                answer = record_csat(ticket=ticket, rating=form.cleaned_data["rating"],
                                     comment=form.cleaned_data["comment"])
            except ValidationError as exc:
                if CsatResponse.objects.filter(ticket=ticket).exists():  # answered at the same moment elsewhere
                    return self.already(request, ticket)
                form_errors_from(form, exc)
            else:
                return render(request, "support/public/csat_done.html", {"ticket": ticket, "answer": answer})
        return render(request, self.template, {"ticket": ticket, "form": form}, status=400)


# --- Inbound e-mail webhook ---------------------------------------------------------------------


@method_decorator(csrf_exempt, name="dispatch")
class InboundEmailView(View):
    """POST a raw RFC 822 message (`Authorization: Bearer <SUPPORT_INBOUND_SECRET>`): stored, then processed in the
    background; 202 with the stored id (the same id again for a retry of the same Message-ID)."""

    http_method_names = ["post"]

    def post(self, request):
        secret = getattr(settings, "SUPPORT_INBOUND_SECRET", "")
        if not secret:
            raise Http404  # the endpoint does not exist until it is configured
        scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), secret.encode()):
            return JsonResponse({"errors": {"detail": ["Invalid or missing secret."]}}, status=403)
        if request.content_type.startswith("multipart/") or request.content_type == "application/x-www-form-urlencoded":
            return JsonResponse({"errors": {"detail": ["Send the raw message (message/rfc822) as the body."]}},
                                status=415)
        try:
            declared = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_INBOUND_BYTES:
            return JsonResponse({"errors": {"detail": ["The message is too large."]}}, status=413)
        # Read the stream ourselves: request.body would refuse anything over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB).
        raw = request.read(MAX_INBOUND_BYTES + 1)
        if len(raw) > MAX_INBOUND_BYTES:
            return JsonResponse({"errors": {"detail": ["The message is too large."]}}, status=413)
        if not raw.strip():
            return JsonResponse({"errors": {"detail": ["The body is empty."]}}, status=400)
        stored = inbound.receive(raw)
        return JsonResponse({"id": stored.pk}, status=202)


urlpatterns = [
    path("new/", PublicNewTicketView.as_view(), name="public_new"),
    path("new/thanks/", PublicThanksView.as_view(), name="public_thanks"),
    path("t/<str:token>/", PublicTicketView.as_view(), name="public_ticket"),
    path("rate/<str:token>/", CsatView.as_view(), name="csat"),
    path("inbound/email/", InboundEmailView.as_view(), name="inbound_email"),
]
