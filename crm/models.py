"""Users, teams, org settings, the owned-record base and the visibility rules."""

import hashlib
import secrets

import pghistory
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    SALES_REP = "sales_rep", _("Sales rep")
    SUPPORT_AGENT = "support_agent", _("Support agent")


class Sharing(models.TextChoices):
    TEAM = "team", _("Team: reps see their team's records")
    PRIVATE = "private", _("Private: reps see only their own records")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_superuser", False)
        extra.setdefault("is_staff", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_superuser=True, is_staff=True, role=Role.ADMIN)
        return self._create_user(email, password, **extra)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude_auto=True)),
    exclude=["password", "last_login"],
)
class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALES_REP)
    team = models.ForeignKey(
        "Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, blank=True, default=""
    )
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("Django admin access"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    invitation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["full_name"]
        constraints = [models.UniqueConstraint(Lower("email"), name="crm_user_email_ci_unique")]

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    def managed_team_ids(self) -> frozenset[int]:
        """Ids of the teams this user manages; read once per request (the user object lives that long)."""
        if "_managed_team_ids" not in self.__dict__:
            rows = list(self.managed_teams.values_list("id", "kind")) if self.pk else []
            self.__dict__["_managed_team_ids"] = frozenset(pk for pk, _kind in rows)
            self.__dict__["_managed_support_team_ids"] = frozenset(pk for pk, kind in rows if kind == TeamKind.SUPPORT)
        return self.__dict__["_managed_team_ids"]

    def managed_support_team_ids(self) -> frozenset[int]:
        """The support teams among `managed_team_ids` (read by the same query)."""
        self.managed_team_ids()
        return self.__dict__["_managed_support_team_ids"]

    def org(self) -> "OrgSettings":
        if "_org" not in self.__dict__:
            self.__dict__["_org"] = OrgSettings.load()
        return self.__dict__["_org"]


class TeamKind(models.TextChoices):
    SALES = "sales", _("Sales")
    SUPPORT = "support", _("Support")


@pghistory.track()
class Team(models.Model):
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=TeamKind.choices, default=TeamKind.SALES)
    managers = models.ManyToManyField(
        User, through="TeamManager", related_name="managed_teams", blank=True, verbose_name=_("managers")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="crm_team_name_ci_unique")]

    def __str__(self):
        return self.name


@pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())
class TeamManager(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="crm_team_manager_unique")]

    def __str__(self):
        return f"{self.user} manages {self.team}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude_auto=True)))
class OrgSettings(models.Model):
    """The organisation's settings: one row (id=1)."""

    name = models.CharField(_("organisation name"), max_length=150, default="Sampark")
    default_currency = models.CharField(_("default currency"), max_length=3, default="BDT")
    sharing_default = models.CharField(
        _("record sharing default"), max_length=10, choices=Sharing.choices, default=Sharing.TEAM
    )
    require_mfa_for_all = models.BooleanField(
        _("require two-factor sign-in for everyone"),
        default=False,
        help_text=_("Admins always need it; this extends the rule to every user."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("organisation settings")
        verbose_name_plural = _("organisation settings")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="crm_orgsettings_singleton")]

    def __str__(self):
        return self.name

    @classmethod
    def load(cls) -> "OrgSettings":
        obj = cls.objects.filter(pk=1).first()
        if obj is None:
            obj, _created = cls.objects.get_or_create(pk=1, defaults={"default_currency": settings.DEFAULT_CURRENCY})
        return obj


# --- Owned records ------------------------------------------------------------------------------


class OwnedQuerySet(models.QuerySet):
    def visible_to(self, user) -> "OwnedQuerySet":
        """Records `user` may see (ARCHITECTURE.md "Visibility"); the one entry point for reads."""
        from crm.visibility import visibility_filter

        condition = visibility_filter(user, self.model)
        if condition is None:
            return self.all()
        return self.filter(condition)


class OwnedModel(models.Model):
    """Base of every record that has an owner and a team.

    `team` always follows the owner's team (services keep it so), which lets `visible_to`
    filter on `team_id` alone for the common case and be served by one index.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = OwnedQuerySet.as_manager()

    #: Team members (not only the owner) may edit when the org shares records with the team.
    team_members_edit = True
    #: Support agents may read these records but never change them (contacts, companies, deals, orders).
    read_only_for_agents = False

    class Meta:
        abstract = True


def owned_indexes(prefix: str) -> list[models.Index]:
    """The two indexes every owned model needs for `visible_to` lists (newest first)."""
    return [
        models.Index(fields=["team", "-created_at", "-id"], name=f"{prefix}_team_recent"),
        models.Index(fields=["owner", "-created_at", "-id"], name=f"{prefix}_owner_recent"),
    ]


def sort_indexes(prefix: str, key: str, *fields: str, team: bool = True) -> list[models.Index]:
    """Indexes that serve a list order (e.g. "-amount", "-id") under the visibility filter: by team (reps and
    managers) and over everything (admins). Scanned backwards they serve the opposite order too."""
    indexes = [models.Index(fields=list(fields), name=f"{prefix}_{key}")]
    if team:
        indexes.append(models.Index(fields=["team", *fields], name=f"{prefix}_team_{key}"))
    return indexes


class SavedViewQuerySet(OwnedQuerySet):
    def visible_to(self, user):
        """Owned-record visibility, narrowed to shared views and one's own: personal views stay personal."""
        if user is None or not user.is_authenticated:
            return self.none()
        return super().visible_to(user).filter(Q(shared=True) | Q(owner_id=user.pk))


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude_auto=True)),
    pghistory.DeleteEvent(),
)
class SavedView(OwnedModel):
    """A named list filter (query string and columns), personal or shared with the owner's team."""

    class Target(models.TextChoices):
        CONTACTS = "contacts", _("Contacts")
        COMPANIES = "companies", _("Companies")
        DEALS = "deals", _("Deals")
        TICKETS = "tickets", _("Tickets")

    name = models.CharField(_("name"), max_length=80)
    target = models.CharField(_("list"), max_length=20, choices=Target.choices)
    query = models.CharField(_("filters"), max_length=2000, blank=True, default="")
    columns = models.JSONField(_("columns"), default=list, blank=True)
    shared = models.BooleanField(_("shared with my team"), default=False)

    team_members_edit = False  # a shared view is read by the team, changed by its owner

    objects = SavedViewQuerySet.as_manager()

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        indexes = owned_indexes("crm_savedview")

    def __str__(self):
        return self.name


# --- API tokens ---------------------------------------------------------------------------------


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude_auto=True)),
                 exclude=["key_hash", "last_used_at"])
class ApiToken(models.Model):
    """A personal API token; only a hash of the secret is stored, the key is shown once."""

    PREFIX = "smp"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    lookup = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return self.name

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def new_key(cls) -> tuple[str, str, str]:
        """Return (full key, lookup, hash of the secret)."""
        lookup = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        return f"{cls.PREFIX}_{lookup}_{secret}", lookup, cls.hash_secret(secret)


# --- Background work ----------------------------------------------------------------------------


class OutboxMessage(models.Model):
    """Work that must not be lost, written in the same transaction as the change that needs it.

    The Celery message is only a trigger: `crm.tasks.relay_outbox` re-sends whatever a lost
    message (Redis restart, worker killed) left undone.
    """

    job = models.CharField(max_length=100)
    kwargs = models.JSONField(default=dict)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["published_at"], name="crm_outbox_pending", condition=Q(done_at__isnull=True)),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"], name="crm_outbox_dedupe_pending", condition=Q(done_at__isnull=True)
            )
        ]

    def __str__(self):
        return f"{self.job} #{self.pk}"


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker proved it is alive (shown by /healthz)."""

    hostname = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self):
        return self.hostname


# --- Notifications ------------------------------------------------------------------------------


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A notification is its recipient's alone (an admin does not read other people's)."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(recipient_id=user.pk)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something a user should know about: a task reminder, a record assigned to them, an SLA alarm.

    The row is written in the transaction of the event (so it is never lost); e-mail, when wanted, is sent
    by a worker that marks `emailed_at`, and a beat task retries whatever a lost message left unsent.
    `dedupe_key` makes "once per event" a constraint instead of a hope.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=30)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("message"), blank=True, default="")
    url = models.CharField(_("link"), max_length=500, blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    email_wanted = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="crm_notification_recent"),
            models.Index(fields=["recipient", "-created_at"], name="crm_notification_unread",
                         condition=Q(read_at__isnull=True)),
            models.Index(fields=["created_at"], name="crm_notification_email_pending",
                         condition=Q(email_wanted=True, emailed_at__isnull=True)),
        ]

    def __str__(self):
        return self.title
