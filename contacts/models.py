"""The customer 360: companies, contacts, their emails/phones/social profiles, tags, the timeline, imports.

Writes go through `contacts.services` (and `contacts.imports`); reads start from `visible_to`.
Contacts and companies are soft-deleted: `objects` hides the trash, `all_objects` shows it.
"""

import pghistory
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Collate, Left, Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import OwnedModel, OwnedQuerySet

TRASH_DAYS = 30
_ALIVE = Q(deleted_at__isnull=True)


# --- Choices ------------------------------------------------------------------------------------


class LifecycleStage(models.TextChoices):
    SUBSCRIBER = "subscriber", _("Subscriber")
    LEAD = "lead", _("Lead")
    MQL = "mql", _("Marketing qualified lead")
    SQL = "sql", _("Sales qualified lead")
    OPPORTUNITY = "opportunity", _("Opportunity")
    CUSTOMER = "customer", _("Customer")
    EVANGELIST = "evangelist", _("Evangelist")
    CHURNED = "churned", _("Churned")


class ScoreBand(models.TextChoices):
    """The lead score's band; thresholds are the scoring settings' (sales app)."""

    HOT = "hot", _("Hot")
    WARM = "warm", _("Warm")
    COLD = "cold", _("Cold")


class Source(models.TextChoices):
    CAMPAIGN = "campaign", _("Campaign")
    WEB_FORM = "web_form", _("Web form")
    IMPORT = "import", _("Import")
    REFERRAL = "referral", _("Referral")
    SOCIAL = "social", _("Social")
    MANUAL = "manual", _("Manual")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNDISCLOSED = "prefer_not_to_say", _("Prefer not to say")


class AgeBand(models.TextChoices):
    UNDER_18 = "under_18", _("Under 18")
    A18_24 = "18_24", "18–24"
    A25_34 = "25_34", "25–34"
    A35_44 = "35_44", "35–44"
    A45_54 = "45_54", "45–54"
    A55_64 = "55_64", "55–64"
    A65_PLUS = "65_plus", _("65 and over")


class IncomeBand(models.TextChoices):
    LOW = "low", _("Low")
    LOWER_MIDDLE = "lower_middle", _("Lower middle")
    MIDDLE = "middle", _("Middle")
    UPPER_MIDDLE = "upper_middle", _("Upper middle")
    HIGH = "high", _("High")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    MESSENGER = "messenger", _("Messenger")
    IN_PERSON = "in_person", _("In person")


class SizeBand(models.TextChoices):
    S1_10 = "1_10", _("1–10 employees")
    S11_50 = "11_50", _("11–50 employees")
    S51_200 = "51_200", _("51–200 employees")
    S201_1000 = "201_1000", _("201–1,000 employees")
    S1000_PLUS = "1000_plus", _("More than 1,000 employees")


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    WORK = "work", _("Work")
    HOME = "home", _("Home")
    WHATSAPP = "whatsapp", _("WhatsApp")
    OTHER = "other", _("Other")


class Platform(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    LINKEDIN = "linkedin", "LinkedIn"
    X = "x", "X"
    INSTAGRAM = "instagram", "Instagram"
    YOUTUBE = "youtube", "YouTube"
    TIKTOK = "tiktok", "TikTok"
    WHATSAPP = "whatsapp", "WhatsApp"
    OTHER = "other", _("Other")


class TagSource(models.TextChoices):
    MANUAL = "manual", _("Added by a person")
    SOCIAL = "social", _("Learned from social")
    IMPORT = "import", _("Imported")


# --- Tags ---------------------------------------------------------------------------------------


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Tag(models.Model):
    """An organisation-wide label with a colour, for contacts (interests) and companies."""

    name = models.CharField(_("name"), max_length=60)
    colour = models.CharField(_("colour"), max_length=7, default="#64748b", help_text=_("A hex colour such as #0ea5e9."))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="contacts_tag_name_ci_unique")]

    def __str__(self):
        return self.name


# --- Soft delete --------------------------------------------------------------------------------


class SoftDeleteQuerySet(OwnedQuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def trashed(self):
        return self.filter(deleted_at__isnull=False)


class AliveManager(models.Manager.from_queryset(SoftDeleteQuerySet)):
    """The default manager: records in the trash are not there, for every page, API and relation."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


AllManager = models.Manager.from_queryset(SoftDeleteQuerySet)


class SoftDeletable(models.Model):
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True, editable=False)
    # Indexed only where set (the models' `<prefix>_deleted_by`): a full index would hold a NULL for every row.
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False,
        db_index=False,
    )

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def _alive_indexes(prefix: str) -> list[models.Index]:
    """The `visible_to` list indexes, restricted to records outside the trash (newest first)."""
    return [
        models.Index(fields=["team", "-created_at", "-id"], name=f"{prefix}_team_recent", condition=_ALIVE),
        models.Index(fields=["owner", "-created_at", "-id"], name=f"{prefix}_owner_recent", condition=_ALIVE),
        models.Index(fields=["-created_at", "-id"], name=f"{prefix}_recent", condition=_ALIVE),
        models.Index(fields=["deleted_at"], name=f"{prefix}_trash", condition=Q(deleted_at__isnull=False)),
        models.Index(fields=["deleted_by"], name=f"{prefix}_deleted_by", condition=Q(deleted_by__isnull=False)),
    ]


# --- Companies ----------------------------------------------------------------------------------


_COMPANY_AUDIT_EXCLUDE = ["search_text", "updated_at"]


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=_COMPANY_AUDIT_EXCLUDE)),
    pghistory.DeleteEvent(),
    exclude=["search_text"],
)
class Company(OwnedModel, SoftDeletable):
    """An account: a business the organisation sells to or serves."""

    name = models.CharField(_("name"), max_length=200)
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True, default="")
    industry = models.CharField(_("industry"), max_length=100, blank=True, default="")
    size_band = models.CharField(_("size"), max_length=20, choices=SizeBand.choices, blank=True, default="")
    website = models.CharField(_("website"), max_length=300, blank=True, default="")
    #: The website's normalised host (no scheme, no "www."), unique among companies outside the trash.
    domain = models.CharField(_("domain"), max_length=253, blank=True, default="", editable=False)
    phone = models.CharField(_("phone"), max_length=20, blank=True, default="", help_text=_("Stored in E.164 form."))
    address = models.CharField(_("address"), max_length=300, blank=True, default="")
    city = models.CharField(_("city"), max_length=100, blank=True, default="")
    region = models.CharField(_("region or division"), max_length=100, blank=True, default="")
    country = models.CharField(_("country"), max_length=2, blank=True, default="BD", help_text=_("Two-letter code."))
    notes = models.TextField(_("notes"), blank=True, default="")
    tags = models.ManyToManyField(Tag, through="CompanyTag", related_name="companies", blank=True, verbose_name=_("tags"))
    #: Lower-cased name, legal name and domain for trigram search (kept by the services).
    search_text = models.TextField(default="", editable=False)

    read_only_for_agents = True

    objects = AliveManager()
    all_objects = AllManager()

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        base_manager_name = "all_objects"
        indexes = [
            *_alive_indexes("contacts_company"),
            models.Index(fields=["team", "name", "id"], name="contacts_company_team_name", condition=_ALIVE),
            models.Index(fields=["name", "id"], name="contacts_company_name", condition=_ALIVE),
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="contacts_company_search_trgm"),
            # One- and two-letter searches: `LIKE 'ra%'` and the alphabetical order from one btree (C collation);
            # left(…, 20) keeps keys small when a record has many emails.
            models.Index(Collate(Left("search_text", 20), "C"), name="contacts_company_search_prefix", condition=_ALIVE),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["domain"], name="contacts_company_domain_unique",
                condition=~Q(domain="") & Q(deleted_at__isnull=True),
                violation_error_message=_("Another company already has this website."),
            ),
        ]

    def __str__(self):
        return self.name


@pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())
class CompanyTag(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="company_links")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "tag"], name="contacts_companytag_unique")]
        indexes = [models.Index(fields=["tag", "company"], name="contacts_companytag_by_tag")]

    def __str__(self):
        return f"{self.company_id}:{self.tag_id}"


# --- Contacts -----------------------------------------------------------------------------------


#: Computed columns stay out of the audit history (a nightly rescore would otherwise write a million events).
_SCORE_COLUMNS = ["score", "score_band", "score_change_7d", "score_updated_at"]
_CONTACT_AUDIT_EXCLUDE = ["search_text", "updated_at", "last_interaction_at", *_SCORE_COLUMNS]


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=_CONTACT_AUDIT_EXCLUDE)),
    pghistory.DeleteEvent(),
    exclude=["search_text", "last_interaction_at", *_SCORE_COLUMNS],
)
class Contact(OwnedModel, SoftDeletable):
    """A person the organisation sells to or serves. Names may be in Bengali or Latin script (or both)."""

    first_name = models.CharField(_("first name"), max_length=100, blank=True, default="")
    last_name = models.CharField(_("last name"), max_length=100, blank=True, default="")
    #: The primary email and phone, copied from ContactEmail/ContactPhone for lists and exports.
    email = models.CharField(_("email"), max_length=254, blank=True, default="", editable=False)
    phone = models.CharField(_("phone"), max_length=20, blank=True, default="", editable=False)
    company = models.ForeignKey(  # indexed once, by contacts_contact_company
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts",
        db_index=False,
    )
    job_title = models.CharField(_("job title"), max_length=120, blank=True, default="")
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=20, choices=LifecycleStage.choices, default=LifecycleStage.LEAD
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.MANUAL)
    # Demographics
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    age_band = models.CharField(_("age band"), max_length=10, choices=AgeBand.choices, blank=True, default="")
    gender = models.CharField(_("gender"), max_length=20, choices=Gender.choices, blank=True, default="")
    city = models.CharField(_("city"), max_length=100, blank=True, default="")
    region = models.CharField(_("region or division"), max_length=100, blank=True, default="")
    country = models.CharField(_("country"), max_length=2, blank=True, default="BD", help_text=_("Two-letter code."))
    income_band = models.CharField(_("income band"), max_length=20, choices=IncomeBand.choices, blank=True, default="")
    # Preferences
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=20, choices=Channel.choices, blank=True, default=""
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, blank=True, default=""
    )
    contact_times = models.CharField(_("best times to reach"), max_length=200, blank=True, default="")
    # Service firms: what the customer wants from us
    service_preferences = models.TextField(_("service preferences"), blank=True, default="")
    project_requirements = models.TextField(_("project requirements"), blank=True, default="")
    project_type = models.CharField(_("project type"), max_length=100, blank=True, default="")
    project_budget = models.DecimalField(_("project budget"), max_digits=14, decimal_places=2, null=True, blank=True)
    project_start = models.DateField(_("desired start"), null=True, blank=True)
    # Consent: the current state per channel, when and how it was given or withdrawn
    email_opt_in = models.BooleanField(_("email opt-in"), default=False)
    email_opt_in_at = models.DateTimeField(_("email consent recorded"), null=True, blank=True)
    email_opt_in_source = models.CharField(_("email consent source"), max_length=100, blank=True, default="")
    sms_opt_in = models.BooleanField(_("SMS opt-in"), default=False)
    sms_opt_in_at = models.DateTimeField(_("SMS consent recorded"), null=True, blank=True)
    sms_opt_in_source = models.CharField(_("SMS consent source"), max_length=100, blank=True, default="")
    phone_opt_in = models.BooleanField(_("phone opt-in"), default=False)
    phone_opt_in_at = models.DateTimeField(_("phone consent recorded"), null=True, blank=True)
    phone_opt_in_source = models.CharField(_("phone consent source"), max_length=100, blank=True, default="")
    do_not_contact = models.BooleanField(_("do not contact"), default=False)
    notes = models.TextField(_("notes"), blank=True, default="")

    tags = models.ManyToManyField(Tag, through="ContactTag", related_name="contacts", blank=True, verbose_name=_("tags"))
    import_batch = models.ForeignKey(  # indexed only where set, by contacts_contact_import
        "ContactImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts", editable=False,
        db_index=False,
    )
    last_interaction_at = models.DateTimeField(_("last activity"), null=True, blank=True, editable=False)
    # The lead score, written only by the scoring engine (sales.scoring), set-based.
    # (db_default too: set-based inserts, imports and the bench seeder, need not name them.)
    score = models.PositiveSmallIntegerField(_("score"), default=0, db_default=0, editable=False)
    score_band = models.CharField(_("band"), max_length=4, choices=ScoreBand.choices, default=ScoreBand.COLD,
                                  db_default=ScoreBand.COLD, editable=False)
    score_change_7d = models.SmallIntegerField(_("score change this week"), default=0, db_default=0, editable=False)
    score_updated_at = models.DateTimeField(_("score computed"), null=True, blank=True, editable=False)
    #: Lower-cased names, emails and phone digits (E.164 and national) for trigram search (kept by the services).
    search_text = models.TextField(default="", editable=False)

    read_only_for_agents = True

    objects = AliveManager()
    all_objects = AllManager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        base_manager_name = "all_objects"
        indexes = [
            *_alive_indexes("contacts_contact"),
            models.Index(fields=["team", "first_name", "last_name", "id"], name="contacts_contact_team_name", condition=_ALIVE),
            models.Index(fields=["first_name", "last_name", "id"], name="contacts_contact_name", condition=_ALIVE),
            models.Index(fields=["team", "lifecycle_stage", "-created_at", "-id"], name="contacts_contact_team_stage",
                         condition=_ALIVE),
            models.Index(fields=["lifecycle_stage", "-created_at", "-id"], name="contacts_contact_stage", condition=_ALIVE),
            models.Index(fields=["team", "-updated_at", "-id"], name="contacts_contact_team_updated", condition=_ALIVE),
            models.Index(fields=["team", "-score", "-id"], name="contacts_contact_team_score", condition=_ALIVE),
            models.Index(fields=["owner", "-score", "-id"], name="contacts_contact_owner_score", condition=_ALIVE),
            models.Index(fields=["-score", "-id"], name="contacts_contact_score", condition=_ALIVE),
            models.Index(fields=["-updated_at", "-id"], name="contacts_contact_updated", condition=_ALIVE),
            models.Index(fields=["company"], name="contacts_contact_company"),
            models.Index(fields=["import_batch"], name="contacts_contact_import", condition=Q(import_batch__isnull=False)),
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="contacts_contact_search_trgm"),
            models.Index(Collate(Left("search_text", 20), "C"), name="contacts_contact_search_prefix", condition=_ALIVE),
        ]

    def __str__(self):
        return self.full_name or self.email or self.phone or f"#{self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())
class ContactTag(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="contact_links")
    source = models.CharField(_("source"), max_length=10, choices=TagSource.choices, default=TagSource.MANUAL)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "tag"], name="contacts_contacttag_unique")]
        indexes = [models.Index(fields=["tag", "contact"], name="contacts_contacttag_by_tag")]

    def __str__(self):
        return f"{self.contact_id}:{self.tag_id}"


class ChildQuerySet(models.QuerySet):
    """Rows that belong to a contact: visible exactly when their contact is."""

    def visible_to(self, user):
        return self.filter(contact__in=Contact.objects.visible_to(user))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ContactEmail(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.CharField(_("email"), max_length=254, help_text=_("Stored in lower case."))
    is_primary = models.BooleanField(_("primary"), default=False)

    objects = ChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("email address")
        verbose_name_plural = _("email addresses")
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "email"], name="contacts_contactemail_unique"),
            models.UniqueConstraint(fields=["contact"], condition=Q(is_primary=True), name="contacts_contactemail_one_primary"),
        ]
        indexes = [models.Index(fields=["email"], name="contacts_contactemail_email")]

    def __str__(self):
        return self.email


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ContactPhone(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("number"), max_length=20, help_text=_("E.164, e.g. +8801712345678."))
    kind = models.CharField(_("kind"), max_length=10, choices=PhoneKind.choices, default=PhoneKind.MOBILE)
    is_primary = models.BooleanField(_("primary"), default=False)

    objects = ChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "number"], name="contacts_contactphone_unique"),
            models.UniqueConstraint(fields=["contact"], condition=Q(is_primary=True), name="contacts_contactphone_one_primary"),
        ]
        indexes = [models.Index(fields=["number"], name="contacts_contactphone_number")]

    def __str__(self):
        return self.number


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class SocialProfile(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="social_profiles")
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    handle = models.CharField(_("handle"), max_length=200, blank=True, default="")
    url = models.URLField(_("profile link"), max_length=500, blank=True, default="")
    followers = models.PositiveIntegerField(_("followers"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("social profile")
        verbose_name_plural = _("social profiles")
        ordering = ["platform", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "platform", "handle"], name="contacts_socialprofile_unique"),
        ]

    def __str__(self):
        return f"{self.get_platform_display()} {self.handle or self.url}"


# --- The timeline -------------------------------------------------------------------------------


class InteractionKind(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    NOTE = "note", _("Note")
    SMS = "sms", _("SMS")
    SOCIAL_MESSAGE = "social_message", _("Social message")
    WEB_VISIT = "web_visit", _("Web visit")
    PURCHASE = "purchase", _("Purchase")
    DEAL_EVENT = "deal_event", _("Deal event")
    TICKET_EVENT = "ticket_event", _("Ticket event")


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class InteractionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Visible exactly when its contact (or, for a company-only entry, its company) is."""
        contacts = Contact.objects.visible_to(user)
        companies = Company.objects.visible_to(user)
        return self.filter(Q(contact__in=contacts) | Q(contact__isnull=True, company__in=companies))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Interaction(models.Model):
    """One entry of a customer's timeline. Other apps append through `contacts.services.record_interaction`.

    `link_type`/`link_id` point at a deal, ticket or order of a later app without importing it
    (apps depend downward only).
    """

    kind = models.CharField(_("kind"), max_length=20, choices=InteractionKind.choices)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, blank=True, default="")
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    subject = models.CharField(_("subject"), max_length=200, blank=True, default="")
    body = models.TextField(_("details"), blank=True, default="")
    outcome = models.CharField(_("outcome"), max_length=200, blank=True, default="")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.CASCADE, related_name="interactions"
    )
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.CASCADE, related_name="interactions"
    )
    link_type = models.CharField(max_length=20, blank=True, default="")
    link_id = models.BigIntegerField(null=True, blank=True)
    link_label = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = InteractionQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["contact", "-occurred_at", "-id"], name="contacts_interaction_contact"),
            # Lead scoring's behaviour rules count a contact's interactions of a kind in a window.
            models.Index(fields=["contact", "kind", "occurred_at"], name="contacts_interaction_kind_at"),
            models.Index(fields=["company", "-occurred_at", "-id"], name="contacts_interaction_company"),
            models.Index(fields=["link_type", "link_id"], name="contacts_interaction_link",
                         condition=~Q(link_type="")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | Q(company__isnull=False), name="contacts_interaction_has_subject"
            ),
        ]

    def __str__(self):
        return self.subject or self.get_kind_display()


# --- Imports ------------------------------------------------------------------------------------


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Waiting for column mapping")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    UNDOING = "undoing", _("Undoing")
    UNDONE = "undone", _("Undone")


class DuplicateMode(models.TextChoices):
    SKIP = "skip", _("Skip the row")
    UPDATE = "update", _("Update the existing contact")
    CREATE = "create", _("Create a new contact anyway")


class ContactImportQuerySet(OwnedQuerySet):
    def visible_to(self, user):
        """An import is its importer's work: others see it only as its team's manager or an admin."""
        from crm import policy

        qs = super().visible_to(user)
        condition = policy.deletable_filter(user, self.model) if user is not None and user.is_authenticated else None
        return qs if condition is None else qs.filter(condition)


class ContactImport(OwnedModel):
    """One uploaded file of contacts, its column mapping, progress and outcome (for the report and undo).

    The file is kept in PostgreSQL, so any worker can read it without shared storage.
    """

    filename = models.CharField(_("file"), max_length=255)
    data = models.BinaryField(editable=False)
    headers = models.JSONField(default=list, editable=False)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    duplicate_mode = models.CharField(
        _("when a contact already exists"), max_length=10, choices=DuplicateMode.choices, default=DuplicateMode.SKIP
    )
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    team_members_edit = False

    objects = ContactImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact import")
        verbose_name_plural = _("contact imports")
        indexes = [
            models.Index(fields=["team", "-created_at", "-id"], name="contacts_import_team_recent"),
            models.Index(fields=["owner", "-created_at", "-id"], name="contacts_import_owner_recent"),
        ]

    def __str__(self):
        return self.filename


class ImportRowAction(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    SKIPPED = "skipped", _("Skipped (duplicate)")
    REJECTED = "rejected", _("Rejected")


class ImportRow(models.Model):
    """What happened to one row of an import: the contact it made or changed (and the values before), or why not."""

    contact_import = models.ForeignKey(ContactImport, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()
    action = models.CharField(max_length=10, choices=ImportRowAction.choices)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    values = models.JSONField(default=dict)
    before = models.JSONField(null=True, blank=True)
    errors = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact_import", "row_number"], name="contacts_importrow_unique"),
        ]
        indexes = [models.Index(fields=["contact_import", "action", "row_number"], name="contacts_importrow_action")]

    def __str__(self):
        return f"{self.contact_import_id}:{self.row_number} {self.action}"
