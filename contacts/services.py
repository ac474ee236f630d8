"""Writes with rules for companies, contacts, tags, the timeline, the trash and merges.

Every function is keyword-only and transactional; errors are ValidationErrors keyed by field
(or PermissionDenied for a right the user lacks). Other apps append to a customer's timeline
through `record_interaction` only.
"""

from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, UniqueConstraint
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import (
    TRASH_DAYS,
    Company,
    CompanyTag,
    Contact,
    ContactEmail,
    ContactPhone,
    ContactTag,
    Interaction,
    InteractionKind,
    SocialProfile,
    Tag,
    TagSource,
)
from contacts.normalise import normalise_email, normalise_phone, phone_search_forms, search_key, website_domain
from contacts.signals import contacts_changed
from crm import notifications, policy
from crm.models import Role, User
from crm.services import assign_owner, new_owner, transfer_target

CONTACT_FIELDS = (
    "first_name", "last_name", "job_title", "lifecycle_stage", "source", "birth_date", "age_band", "gender",
    "city", "region", "country", "income_band", "preferred_channel", "preferred_language", "contact_times",
    "service_preferences", "project_requirements", "project_type", "project_budget", "project_start",
    "do_not_contact", "notes",
)
COMPANY_FIELDS = (
    "name", "legal_name", "industry", "size_band", "website", "phone", "address", "city", "region", "country", "notes",
)
CONSENT_CHANNELS = ("email", "sms", "phone")


def _require_edit(by: User, obj, message=None) -> None:
    if not policy.can_edit(by, obj):
        raise PermissionDenied(message or _("You cannot change this record."))


def _require_visible_company(by: User, company: Company | None) -> None:
    if company is not None and not Company.objects.visible_to(by).filter(pk=company.pk).exists():
        raise ValidationError({"company": _("Choose a company you can see.")})


# --- Emails, phones and search text ----------------------------------------------------------


def clean_emails(values: Iterable[str]) -> list[str]:
    """Normalised, de-duplicated emails in the given order (the first is primary); errors keyed `emails`."""
    out, errors = [], []
    for value in values:
        if not str(value or "").strip():
            continue
        try:
            email = normalise_email(value)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        if email not in out:
            out.append(email)
    if errors:
        raise ValidationError({"emails": errors})
    return out


def clean_phones(values: Iterable) -> list[tuple[str, str]]:
    """(E.164 number, kind) pairs, de-duplicated, in order; a value is a number or a (number, kind) pair."""
    out, seen, errors = [], set(), []
    for value in values:
        number, kind = (value if isinstance(value, (tuple, list)) else (value, "mobile"))
        if not str(number or "").strip():
            continue
        try:
            e164 = normalise_phone(number)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        if e164 not in seen:
            seen.add(e164)
            out.append((e164, kind or "mobile"))
    if errors:
        raise ValidationError({"phones": errors})
    return out


def contact_search_text(*, first_name: str, last_name: str, emails: Iterable[str], phones: Iterable[str]) -> str:
    """What trigram search matches a contact on: names, emails, and every digit form of each phone."""
    parts = [first_name, last_name, *emails]
    for number in phones:
        parts.extend(phone_search_forms(number))
    return search_key(" ".join(p for p in parts if p))


def company_search_text(company: Company) -> str:
    return search_key(" ".join(p for p in (company.name, company.legal_name, company.domain) if p))


def _set_emails(contact: Contact, emails: list[str]) -> None:
    contact.emails.exclude(email__in=emails).delete()
    contact.emails.filter(is_primary=True).update(is_primary=False)
    existing = set(contact.emails.values_list("email", flat=True))
    ContactEmail.objects.bulk_create([ContactEmail(contact=contact, email=e) for e in emails if e not in existing])
    if emails:
        contact.emails.filter(email=emails[0]).update(is_primary=True)
    contact.email = emails[0] if emails else ""


def _set_phones(contact: Contact, phones: list[tuple[str, str]]) -> None:
    numbers = [n for n, _kind in phones]
    contact.phones.exclude(number__in=numbers).delete()
    contact.phones.filter(is_primary=True).update(is_primary=False)
    existing = {p.number: p for p in contact.phones.all()}
    for number, kind in phones:
        if number in existing:
            if existing[number].kind != kind:
                ContactPhone.objects.filter(pk=existing[number].pk).update(kind=kind)
        else:
            ContactPhone.objects.create(contact=contact, number=number, kind=kind)
    if numbers:
        contact.phones.filter(number=numbers[0]).update(is_primary=True)
    contact.phone = numbers[0] if numbers else ""


def _refresh_search_text(contact: Contact) -> None:
    contact.search_text = contact_search_text(
        first_name=contact.first_name, last_name=contact.last_name,
        emails=contact.emails.values_list("email", flat=True), phones=contact.phones.values_list("number", flat=True),
    )


def find_duplicates(*, emails: Iterable[str] = (), phones: Iterable[str] = (), exclude_id: int | None = None):
    """Contacts (outside the trash) sharing any of these normalised emails or phones; served by two indexes."""
    emails, phones = list(emails), list(phones)
    if not emails and not phones:
        return Contact.objects.none()
    ids = ContactEmail.objects.filter(email__in=emails).values("contact_id").union(
        ContactPhone.objects.filter(number__in=phones).values("contact_id")
    )
    qs = Contact.objects.filter(pk__in=ids)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return qs


def _check_duplicates(by: User, *, emails, phones, exclude_id=None) -> None:
    """Refuse a second contact with the same email or phone (the caller may allow it explicitly)."""
    duplicates = list(find_duplicates(emails=emails, phones=[n for n, _k in phones], exclude_id=exclude_id)[:5])
    if not duplicates:
        return
    visible = set(Contact.objects.visible_to(by).filter(pk__in=[d.pk for d in duplicates]).values_list("pk", flat=True))
    names = [str(d) for d in duplicates if d.pk in visible]
    if names:
        message = _("A contact with this email or phone already exists: %(names)s.") % {"names": ", ".join(names)}
    else:
        message = _("A contact with this email or phone already exists in another team's records.")
    field = "emails" if find_duplicates(emails=emails, exclude_id=exclude_id).exists() else "phones"
    raise ValidationError({field: ValidationError(message, code="duplicate")})


# --- Contacts -----------------------------------------------------------------------------------


def _apply_consent(contact: Contact, consent: dict, *, now) -> None:
    """`consent` maps channel -> (granted, source); a change records when and how."""
    for channel, value in (consent or {}).items():
        if channel not in CONSENT_CHANNELS:
            raise ValidationError({"consent": _("Unknown channel “%(channel)s”.") % {"channel": channel}})
        granted, source = value if isinstance(value, (tuple, list)) else (value, "")
        changed = bool(granted) != getattr(contact, f"{channel}_opt_in")
        if changed or (source and source != getattr(contact, f"{channel}_opt_in_source")):
            setattr(contact, f"{channel}_opt_in", bool(granted))
            setattr(contact, f"{channel}_opt_in_at", now)
            setattr(contact, f"{channel}_opt_in_source", (source or _("changed by hand"))[:100])


@transaction.atomic
def create_contact(
    *, by: User, owner: User | None = None, emails: Iterable[str] = (), phones: Iterable = (),
    company: Company | None = None, tags: Iterable = (), consent: dict | None = None,
    allow_duplicate: bool = False, import_batch=None, **fields,
) -> Contact:
    """Create a contact with its emails (first is primary), phones (E.164) and tags.

    A contact needs a name, an email or a phone. A second contact with the same email or phone
    is refused unless `allow_duplicate` (the person said "create anyway").
    """
    if by.role == Role.SUPPORT_AGENT:
        raise PermissionDenied(_("Support agents cannot create contacts."))
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown contact fields: {sorted(unknown)}")
    errors = {}
    try:
        email_list = clean_emails(emails)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        email_list = []
    try:
        phone_list = clean_phones(phones)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        phone_list = []
    fields = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}
    if not errors and not (fields.get("first_name") or fields.get("last_name") or email_list or phone_list):
        errors["first_name"] = [_("Give at least a name, an email or a phone number.")]
    if errors:
        raise ValidationError(errors)
    _require_visible_company(by, company)
    if not allow_duplicate:
        _check_duplicates(by, emails=email_list, phones=phone_list)
    contact = Contact(company=company, import_batch=import_batch, **fields)
    assign_owner(contact, new_owner(by=by, owner=owner))
    contact.created_by = by
    _apply_consent(contact, consent, now=timezone.now())
    contact.full_clean(exclude=["owner", "team", "company", "import_batch"])
    contact.save()
    _set_emails(contact, email_list)
    _set_phones(contact, phone_list)
    _refresh_search_text(contact)
    contact.save(update_fields=["email", "phone", "search_text"])
    notifications.notify_assigned(contact, by)
    if tags:
        _add_tags(contact, tags, source=TagSource.MANUAL)
    return contact


@transaction.atomic
def update_contact(
    *, by: User, contact: Contact, emails: Iterable[str] | None = None, phones: Iterable | None = None,
    tags: Iterable | None = None, consent: dict | None = None, allow_duplicate: bool = False,
    **fields,
) -> Contact:
    """Change a contact's fields; `emails`/`phones`/`tags`, when given, replace the whole set."""
    _require_edit(by, contact)
    unknown = set(fields) - set(CONTACT_FIELDS) - {"company"}
    if unknown:
        raise TypeError(f"unknown contact fields: {sorted(unknown)}")
    errors = {}
    email_list = phone_list = None
    if emails is not None:
        try:
            email_list = clean_emails(emails)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if phones is not None:
        try:
            phone_list = clean_phones(phones)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if "company" in fields:
        _require_visible_company(by, fields["company"])
    for name, value in fields.items():
        setattr(contact, name, value.strip() if isinstance(value, str) else value)
    new_emails = email_list if email_list is not None else list(contact.emails.values_list("email", flat=True))
    new_phones = phone_list if phone_list is not None else [(p.number, p.kind) for p in contact.phones.all()]
    if not (contact.first_name or contact.last_name or new_emails or new_phones):
        raise ValidationError({"first_name": _("Give at least a name, an email or a phone number.")})
    if not allow_duplicate and (email_list is not None or phone_list is not None):
        _check_duplicates(by, emails=email_list or [], phones=phone_list or [], exclude_id=contact.pk)
    _apply_consent(contact, consent, now=timezone.now())
    contact.full_clean(exclude=["owner", "team", "company", "import_batch"])
    if email_list is not None:
        _set_emails(contact, email_list)
    if phone_list is not None:
        _set_phones(contact, phone_list)
    _refresh_search_text(contact)
    contact.save()
    if tags is not None:
        set_tags(by=by, obj=contact, tags=tags)
    return contact


def _transfer(by: User, record, owner: User, refusal: str):
    if not policy.can_transfer(by, record):
        raise PermissionDenied(refusal)
    assign_owner(record, transfer_target(by=by, owner=owner))
    record.save(update_fields=["owner", "team", "updated_at"])
    notifications.notify_assigned(record, by)
    return record


@transaction.atomic
def transfer_contact(*, by: User, contact: Contact, owner: User) -> Contact:
    """Give a contact to another user (and so to their team)."""
    return _transfer(by, contact, owner, _("You cannot give this contact to someone else."))


@transaction.atomic
def set_consent(*, by: User, contact: Contact, channel: str, granted: bool, source: str) -> Contact:
    """Record that a contact gave or withdrew consent on a channel, with when and how."""
    _require_edit(by, contact)
    if not source.strip():
        raise ValidationError({"source": _("Say how consent was given or withdrawn.")})
    _apply_consent(contact, {channel: (granted, source.strip())}, now=timezone.now())
    contact.save()
    return contact


# --- Companies ----------------------------------------------------------------------------------


def _clean_company(company: Company) -> None:
    errors = {}
    try:
        company.domain = website_domain(company.website)
    except ValidationError as exc:
        errors["website"] = exc.messages
    if company.phone:
        try:
            company.phone = normalise_phone(company.phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
    if not company.name.strip():
        errors["name"] = [_("Give the company a name.")]
    if errors:
        raise ValidationError(errors)
    if company.domain:
        clash = Company.objects.filter(domain=company.domain).exclude(pk=company.pk).first()
        if clash is not None:
            raise ValidationError({"website": _("“%(name)s” already has this website.") % {"name": clash.name}})
    company.search_text = company_search_text(company)
    company.full_clean(exclude=["owner", "team"], validate_constraints=False)


@transaction.atomic
def create_company(*, by: User, owner: User | None = None, tags: Iterable = (), **fields) -> Company:
    """Create a company; its website's domain is unique among companies outside the trash."""
    if by.role == Role.SUPPORT_AGENT:
        raise PermissionDenied(_("Support agents cannot create companies."))
    fields = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}
    unknown = set(fields) - set(COMPANY_FIELDS)
    if unknown:
        raise TypeError(f"unknown company fields: {sorted(unknown)}")
    company = Company(**fields)
    assign_owner(company, new_owner(by=by, owner=owner))
    company.created_by = by
    _clean_company(company)
    company.save()
    notifications.notify_assigned(company, by)
    if tags:
        _add_company_tags(company, tags)
    return company


@transaction.atomic
def update_company(*, by: User, company: Company, tags: Iterable | None = None, **fields) -> Company:
    _require_edit(by, company)
    unknown = set(fields) - set(COMPANY_FIELDS)
    if unknown:
        raise TypeError(f"unknown company fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(company, name, value.strip() if isinstance(value, str) else value)
    _clean_company(company)
    company.save()
    if tags is not None:
        set_tags(by=by, obj=company, tags=tags)
    return company


@transaction.atomic
def transfer_company(*, by: User, company: Company, owner: User) -> Company:
    """Give a company to another user (and so to their team); its people keep their owners."""
    return _transfer(by, company, owner, _("You cannot give this company to someone else."))


# --- Tags ---------------------------------------------------------------------------------------


def get_or_create_tag(name: str, *, colour: str | None = None) -> Tag:
    """The tag with this name (any letter case), created when new."""
    name = " ".join(str(name).split())
    if not name:
        raise ValidationError({"tags": _("A tag needs a name.")})
    if len(name) > 60:
        raise ValidationError({"tags": _("“%(name)s” is longer than 60 characters.") % {"name": name}})
    tag = Tag.objects.filter(name__iexact=name).first()
    if tag is None:
        try:
            with transaction.atomic():
                tag = Tag.objects.create(name=name, **({"colour": colour} if colour else {}))
        except IntegrityError:  # created by someone else a moment ago
            tag = Tag.objects.get(name__iexact=name)
    return tag


def _tags_from(values: Iterable) -> list[Tag]:
    return [v if isinstance(v, Tag) else get_or_create_tag(v) for v in values]


def _add_tags(contact: Contact, values: Iterable, *, source: str) -> int:
    tags = _tags_from(values)
    created = ContactTag.objects.bulk_create(
        [ContactTag(contact=contact, tag=t, source=source) for t in tags], ignore_conflicts=True
    )
    contacts_changed.send(sender=ContactTag)
    return len(created)


def _add_company_tags(company: Company, values: Iterable) -> None:
    CompanyTag.objects.bulk_create([CompanyTag(company=company, tag=t) for t in _tags_from(values)],
                                   ignore_conflicts=True)


@transaction.atomic
def add_tags(*, by: User, obj: Contact | Company, tags: Iterable, source: str = TagSource.MANUAL) -> None:
    """Tag a contact (interests; `source="social"` for ones learned from social) or a company."""
    _require_edit(by, obj)
    if isinstance(obj, Contact):
        _add_tags(obj, tags, source=source)
    else:
        _add_company_tags(obj, tags)
    type(obj)._base_manager.filter(pk=obj.pk).update(updated_at=timezone.now())


@transaction.atomic
def remove_tag(*, by: User, obj: Contact | Company, tag: Tag) -> None:
    _require_edit(by, obj)
    obj.tag_links.filter(tag=tag).delete()
    type(obj)._base_manager.filter(pk=obj.pk).update(updated_at=timezone.now())


@transaction.atomic
def set_tags(*, by: User, obj: Contact | Company, tags: Iterable) -> None:
    """Make a record's tags exactly `tags` (names or Tag objects); social-learned ones keep their mark."""
    _require_edit(by, obj)
    wanted = _tags_from(tags)
    obj.tag_links.exclude(tag__in=wanted).delete()
    if isinstance(obj, Contact):
        _add_tags(obj, wanted, source=TagSource.MANUAL)
    else:
        _add_company_tags(obj, wanted)


@transaction.atomic
def save_tag(*, by: User, name: str, colour: str, tag: Tag | None = None) -> Tag:
    """Create or rename/recolour a tag (managers and admins: tags are shared by the organisation)."""
    if by.role not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins can change tags."))
    name = " ".join(name.split())
    clash = Tag.objects.filter(name__iexact=name).exclude(pk=getattr(tag, "pk", None)).exists()
    if clash:
        raise ValidationError({"name": _("A tag with this name exists.")})
    tag = tag or Tag()
    tag.name, tag.colour = name, colour
    tag.full_clean(validate_constraints=False)
    tag.save()
    return tag


# --- Social profiles ----------------------------------------------------------------------------


@transaction.atomic
def add_social_profile(
    *, by: User, contact: Contact, platform: str, handle: str = "", url: str = "", followers: int | None = None,
    interests: Iterable[str] = (),
) -> SocialProfile:
    """Link a social profile; interests learned from it become tags marked `social`."""
    _require_edit(by, contact)
    handle, url = handle.strip().lstrip("@") if platform != "whatsapp" else handle.strip(), url.strip()
    if not handle and not url:
        raise ValidationError({"handle": _("Give a handle or a link.")})
    if contact.social_profiles.filter(platform=platform, handle=handle).exists():
        raise ValidationError({"handle": _("This profile is already linked.")})
    profile = SocialProfile(contact=contact, platform=platform, handle=handle, url=url, followers=followers)
    profile.full_clean(exclude=["contact"], validate_constraints=False)
    profile.save()
    if interests:
        _add_tags(contact, interests, source=TagSource.SOCIAL)
    return profile


@transaction.atomic
def remove_social_profile(*, by: User, profile: SocialProfile) -> None:
    _require_edit(by, profile.contact)
    profile.delete()


# --- The timeline -------------------------------------------------------------------------------


@transaction.atomic
def record_interaction(
    *, kind: str, contact: Contact | None = None, company: Company | None = None, by: User | None = None,
    direction: str = "", occurred_at=None, subject: str = "", body: str = "", outcome: str = "",
    link_type: str = "", link_id: int | None = None, link_label: str = "",
) -> Interaction:
    """Append one entry to a customer's timeline (the one way in, for every app).

    `by=None` is the system (an import, a webhook). An entry on a contact also shows on its company's
    timeline. Rights are the caller's business: a person logging a call uses `log_activity`.
    """
    if contact is None and company is None:
        raise ValidationError({"contact": _("An interaction belongs to a contact or a company.")})
    if kind not in InteractionKind.values:
        raise ValidationError({"kind": _("Choose a kind of interaction.")})
    entry = Interaction(
        kind=kind, contact=contact, company=company or (contact.company if contact else None), author=by,
        direction=direction, occurred_at=occurred_at or timezone.now(), subject=subject.strip(), body=body.strip(),
        outcome=outcome.strip(), link_type=link_type, link_id=link_id, link_label=link_label[:200],
    )
    entry.full_clean(exclude=["contact", "company", "author"])
    entry.save()
    if contact is not None:
        Contact._base_manager.filter(pk=contact.pk).filter(
            Q(last_interaction_at__isnull=True) | Q(last_interaction_at__lt=entry.occurred_at)
        ).update(last_interaction_at=entry.occurred_at)
    return entry


#: What a person may log by hand; the other kinds come from systems and other apps.
LOGGABLE_KINDS = (InteractionKind.CALL, InteractionKind.EMAIL, InteractionKind.MEETING, InteractionKind.NOTE,
                  InteractionKind.SMS, InteractionKind.SOCIAL_MESSAGE)


@transaction.atomic
def log_activity(*, by: User, contact: Contact | None = None, company: Company | None = None, kind: str,
                 direction: str = "", occurred_at=None, subject: str = "", body: str = "",
                 outcome: str = "") -> Interaction:
    """A person logs a call, email, meeting, message or note on a customer they can see.

    Support agents may add notes and log contact with customers they can see (read-only records otherwise).
    """
    target = contact or company
    if target is None:
        raise ValidationError({"contact": _("Choose who this was with.")})
    if not type(target).objects.visible_to(by).filter(pk=target.pk).exists():
        raise PermissionDenied(_("You cannot see this customer."))
    if kind not in LOGGABLE_KINDS:
        raise ValidationError({"kind": _("Choose call, email, meeting, message or note.")})
    if kind == InteractionKind.NOTE and not body.strip():
        raise ValidationError({"body": _("Write the note.")})
    if kind != InteractionKind.NOTE and not (subject.strip() or body.strip() or outcome.strip()):
        raise ValidationError({"subject": _("Say what it was about.")})
    if occurred_at and occurred_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("Log what has happened; plan future work as a task.")})
    return record_interaction(kind=kind, contact=contact, company=company, by=by, direction=direction,
                              occurred_at=occurred_at, subject=subject, body=body, outcome=outcome)


@transaction.atomic
def delete_interaction(*, by: User, interaction: Interaction) -> None:
    """Its author or whoever may edit the customer removes an entry logged by hand."""
    target = interaction.contact or interaction.company
    if interaction.kind not in LOGGABLE_KINDS:
        raise PermissionDenied(_("Entries made by the system stay on the timeline."))
    if interaction.author_id != by.pk and not policy.can_edit(by, target):
        raise PermissionDenied(_("You cannot remove this entry."))
    interaction.delete()


# --- Trash --------------------------------------------------------------------------------------


def _to_trash(by: User, record, refusal: str):
    if not policy.can_delete(by, record):
        raise PermissionDenied(refusal)
    record.deleted_at, record.deleted_by = timezone.now(), by
    record.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    return record


def _from_trash(by: User, record, refusal: str):
    if not policy.can_delete(by, record):
        raise PermissionDenied(refusal)
    record.deleted_at, record.deleted_by = None, None
    record.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    return record


@transaction.atomic
def delete_contact(*, by: User, contact: Contact) -> Contact:
    """Move a contact to the trash (restorable for 30 days)."""
    return _to_trash(by, contact, _("You cannot delete this contact."))


@transaction.atomic
def restore_contact(*, by: User, contact: Contact) -> Contact:
    return _from_trash(by, contact, _("You cannot restore this contact."))


@transaction.atomic
def delete_company(*, by: User, company: Company) -> Company:
    """Move a company to the trash; its people stay, without it once it is purged."""
    return _to_trash(by, company, _("You cannot delete this company."))


@transaction.atomic
def restore_company(*, by: User, company: Company) -> Company:
    if not policy.can_delete(by, company):
        raise PermissionDenied(_("You cannot restore this company."))
    if company.domain and Company.objects.filter(domain=company.domain).exclude(pk=company.pk).exists():
        raise ValidationError({"website": _("Another company now has this website; change one of them first.")})
    return _from_trash(by, company, _("You cannot restore this company."))


def purge_trash(*, now=None) -> dict[str, int]:
    """Delete for good what has been in the trash for more than 30 days (set-based; run by beat)."""
    cutoff = (now or timezone.now()) - timedelta(days=TRASH_DAYS)
    with transaction.atomic():
        _total, contacts = Contact.all_objects.filter(deleted_at__lt=cutoff).delete()
        _total, companies = Company.all_objects.filter(deleted_at__lt=cutoff).delete()
    # (delete() also counts the rows that went with them: emails, timeline entries…)
    return {"contacts": contacts.get(Contact._meta.label, 0), "companies": companies.get(Company._meta.label, 0)}


# --- Bulk actions -------------------------------------------------------------------------------


def editable_contacts(*, by: User, ids: Iterable[int]):
    """The contacts among `ids` that `by` may change (visible and editable), as a queryset."""
    qs = Contact.objects.visible_to(by).filter(pk__in=list(ids))
    condition = policy.editable_filter(by, Contact)
    return qs if condition is None else qs.filter(condition)


def _deletable(by: User, qs):
    condition = policy.deletable_filter(by, qs.model)
    return qs if condition is None else qs.filter(condition)


@transaction.atomic
def bulk_update_contacts(
    *, by: User, ids: Iterable[int], action: str, owner: User | None = None, tag=None, stage: str = "",
) -> dict[str, int]:
    """Apply one action to many contacts: `assign` (owner), `tag`, `stage` or `delete`.

    Only the contacts the user may change are touched; the result says how many were and were not.
    """
    ids = list(dict.fromkeys(int(i) for i in ids))
    if not ids:
        raise ValidationError({"ids": _("Choose at least one contact.")})
    now = timezone.now()
    if action == "delete":
        qs = _deletable(by, Contact.objects.visible_to(by).filter(pk__in=ids))
        done = qs.update(deleted_at=now, deleted_by=by, updated_at=now)
    else:
        qs = editable_contacts(by=by, ids=ids)
        if action == "assign":
            if owner is None:
                raise ValidationError({"owner": _("Choose the new owner.")})
            target = transfer_target(by=by, owner=owner)
            qs = _deletable(by, qs)
            done = qs.update(owner=target, team_id=target.team_id, updated_at=now)
            notifications.notify_assigned_many(owner=target, by=by, count=done, model=Contact,
                                               url=reverse("contacts:index") + f"?owner={target.pk}")
        elif action == "tag":
            if tag is None or (isinstance(tag, str) and not tag.strip()):
                raise ValidationError({"tag": _("Choose a tag.")})
            tag = tag if isinstance(tag, Tag) else get_or_create_tag(tag)
            contact_ids = list(qs.values_list("pk", flat=True))
            ContactTag.objects.bulk_create([ContactTag(contact_id=c, tag=tag) for c in contact_ids],
                                           ignore_conflicts=True)
            done = Contact.objects.filter(pk__in=contact_ids).update(updated_at=now)
        elif action == "stage":
            from contacts.models import LifecycleStage

            if stage not in LifecycleStage.values:
                raise ValidationError({"stage": _("Choose a lifecycle stage.")})
            done = qs.update(lifecycle_stage=stage, updated_at=now)
        else:
            raise ValidationError({"action": _("Choose an action.")})
    contacts_changed.send(sender=Contact)
    return {"done": done, "skipped": len(ids) - done}


# --- Merge --------------------------------------------------------------------------------------

_MERGE_FILL = CONTACT_FIELDS + ("company",)


@transaction.atomic
def merge_contacts(*, by: User, primary: Contact, duplicate: Contact) -> Contact:
    """Fold `duplicate` into `primary` and delete it; nothing of either is lost.

    Managers (of both records' teams) and admins only. The primary keeps its values; blanks are
    filled from the duplicate. Every row of any app that points at the duplicate (interactions,
    deals, tickets, orders…) is moved to the primary; emails, phones, tags and social profiles
    are united; consent keeps the most recent decision per channel.
    """
    if by.role not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins can merge contacts."))
    if primary.pk == duplicate.pk:
        raise ValidationError({"duplicate": _("Choose two different contacts.")})
    for contact in (primary, duplicate):
        if not policy.can_delete(by, contact):
            raise PermissionDenied(_("You cannot merge contacts outside the teams you manage."))
    primary = Contact.all_objects.select_for_update().get(pk=primary.pk)
    duplicate = Contact.all_objects.select_for_update().get(pk=duplicate.pk)

    for name in _MERGE_FILL:
        if getattr(primary, name) in ("", None) and getattr(duplicate, name) not in ("", None):
            setattr(primary, name, getattr(duplicate, name))
    for channel in CONSENT_CHANNELS:
        mine, theirs = getattr(primary, f"{channel}_opt_in_at"), getattr(duplicate, f"{channel}_opt_in_at")
        if theirs and (mine is None or theirs > mine):
            for suffix in ("_opt_in", "_opt_in_at", "_opt_in_source"):
                setattr(primary, channel + suffix, getattr(duplicate, channel + suffix))
    primary.do_not_contact = primary.do_not_contact or duplicate.do_not_contact
    if duplicate.notes and duplicate.notes not in primary.notes:
        primary.notes = "\n\n".join(p for p in (primary.notes, duplicate.notes) if p)
    if duplicate.last_interaction_at and (primary.last_interaction_at is None
                                          or duplicate.last_interaction_at > primary.last_interaction_at):
        primary.last_interaction_at = duplicate.last_interaction_at

    emails = list(primary.emails.values_list("email", flat=True))
    emails += [e for e in duplicate.emails.values_list("email", flat=True) if e not in emails]
    phones = [(p.number, p.kind) for p in primary.phones.all()]
    phones += [(p.number, p.kind) for p in duplicate.phones.all() if p.number not in {n for n, _k in phones}]
    duplicate.emails.all().delete()
    duplicate.phones.all().delete()
    _set_emails(primary, emails)
    _set_phones(primary, phones)

    existing_tags = set(primary.tag_links.values_list("tag_id", flat=True))
    duplicate.tag_links.filter(tag_id__in=existing_tags).delete()
    duplicate.tag_links.update(contact=primary)
    existing_profiles = set(primary.social_profiles.values_list("platform", "handle"))
    for profile in duplicate.social_profiles.all():
        if (profile.platform, profile.handle) in existing_profiles:
            profile.delete()
        else:
            SocialProfile.objects.filter(pk=profile.pk).update(contact=primary)
    _repoint_references(primary, duplicate)

    _refresh_search_text(primary)
    primary.save()
    record_interaction(kind=InteractionKind.NOTE, contact=primary, by=by,
                       subject=_("Merged with %(name)s") % {"name": str(duplicate)},
                       body=_("Contact #%(id)s was merged into this one.") % {"id": duplicate.pk})
    duplicate.delete()
    return primary


_MERGE_HANDLED = {"emails", "phones", "tag_links", "social_profiles"}


def _repoint_references(primary: Contact, duplicate: Contact) -> None:
    """Move every row of every app that points at `duplicate` to `primary` (set-based, one UPDATE each).

    Where a unique constraint would make the UPDATE clash (both contacts on the same deal), the
    primary's row stays and the duplicate's twin goes: the link is kept once.
    """
    for relation in Contact._meta.related_objects:
        if relation.many_to_many or relation.get_accessor_name() in _MERGE_HANDLED:
            continue
        field, manager = relation.field.name, relation.related_model._base_manager
        if relation.one_to_one and manager.filter(**{field: primary}).exists():
            continue  # the primary already has its own; the duplicate's goes with it
        for others in _unique_partners(relation.related_model, field):
            twins = manager.filter(**{field: primary}, **{name: OuterRef(name) for name in others})
            manager.filter(**{field: duplicate}).filter(Exists(twins)).delete()
        manager.filter(**{field: duplicate}).update(**{field: primary})


def _unique_partners(model, field: str) -> list[tuple[str, ...]]:
    """For each unconditional unique constraint of `model` that includes `field`, its other fields."""
    return [tuple(f for f in constraint.fields if f != field) for constraint in model._meta.constraints
            if isinstance(constraint, UniqueConstraint) and field in (constraint.fields or ())
            and constraint.condition is None and len(constraint.fields) > 1]
