"""Display helpers of the contact and company pages: phones, tag colours, timeline kinds and links."""

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from contacts import normalise
from contacts.models import InteractionKind

register = template.Library()

#: The tag colours a page can show: the strict CSP forbids style attributes, so a tag's own
#: colour is drawn with the nearest of these classes (records.css `.tag-<name>`).
TAG_PALETTE = {
    "slate": (0x64, 0x74, 0x8B), "red": (0xEF, 0x44, 0x44), "orange": (0xF9, 0x73, 0x16),
    "amber": (0xF5, 0x9E, 0x0B), "green": (0x22, 0xC5, 0x5E), "teal": (0x14, 0xB8, 0xA6),
    "sky": (0x0E, 0xA5, 0xE9), "blue": (0x3B, 0x82, 0xF6), "indigo": (0x63, 0x66, 0xF1),
    "violet": (0x8B, 0x5C, 0xF6), "pink": (0xEC, 0x48, 0x99), "brown": (0x92, 0x40, 0x0E),
}

KIND_ICONS = {
    InteractionKind.CALL: "☎", InteractionKind.EMAIL: "✉", InteractionKind.MEETING: "◷",
    InteractionKind.NOTE: "✎", InteractionKind.SMS: "✆", InteractionKind.SOCIAL_MESSAGE: "☍",
    InteractionKind.WEB_VISIT: "⌂", InteractionKind.PURCHASE: "৳", InteractionKind.DEAL_EVENT: "◆",
    InteractionKind.TICKET_EVENT: "✚",
}

#: Where a timeline entry's link points, by `link_type` (pages of later apps; no link until they exist).
LINK_URL_NAMES = {"deal": "sales:deal", "ticket": "support:ticket", "order": "sales:order", "invoice": "sales:invoice"}


@register.filter
def display_phone(value):
    """A stored E.164 number as people write it (01712-345678 at home, +44 20 … abroad)."""
    return normalise.display_phone(value or "")


@register.filter
def tag_class(colour):
    """The palette class nearest to a tag's hex colour."""
    text = str(colour or "").lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    try:
        rgb = tuple(int(text[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return "tag-slate"
    name = min(TAG_PALETTE, key=lambda n: sum((a - b) ** 2 for a, b in zip(TAG_PALETTE[n], rgb, strict=True)))
    return f"tag-{name}"


@register.filter
def kind_icon(kind):
    return KIND_ICONS.get(kind, "•")


@register.simple_tag
def interaction_url(entry):
    """The page of the deal, ticket or order an entry points at, or "" (that app has no page yet)."""
    name = LINK_URL_NAMES.get(entry.link_type)
    if not name or not entry.link_id:
        return ""
    try:
        return reverse(name, args=[entry.link_id])
    except NoReverseMatch:
        return ""


@register.filter
def bound_field(form, name):
    """`form[name]` for a name held in a variable."""
    return form[name]


CONSENT_LABELS = {"email": _("Email"), "sms": _("SMS"), "phone": _("Phone calls")}


@register.simple_tag
def consent_rows(contact):
    """Per channel: its label, whether the contact agreed, when and how that was recorded."""
    return [
        {"channel": channel, "label": label, "granted": getattr(contact, f"{channel}_opt_in"),
         "at": getattr(contact, f"{channel}_opt_in_at"), "source": getattr(contact, f"{channel}_opt_in_source")}
        for channel, label in CONSENT_LABELS.items()
    ]


PROFILE_URLS = {
    "facebook": "https://www.facebook.com/{}", "linkedin": "https://www.linkedin.com/in/{}", "x": "https://x.com/{}",
    "instagram": "https://www.instagram.com/{}", "youtube": "https://www.youtube.com/@{}",
    "tiktok": "https://www.tiktok.com/@{}",
}


@register.filter
def profile_url(profile):
    """The profile's own link, or one built from the platform and handle ("" when neither tells)."""
    if profile.url:
        return profile.url
    if profile.platform == "whatsapp":
        digits = "".join(c for c in normalise.ascii_digits(profile.handle) if c.isdigit())
        return f"https://wa.me/{digits}" if digits else ""
    pattern = PROFILE_URLS.get(profile.platform)
    return pattern.format(profile.handle) if pattern and profile.handle else ""
