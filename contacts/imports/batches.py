"""Committing one batch of prepared rows: duplicates decided, companies and tags found or made, COPY and bulk writes."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts import services
from contacts.imports.rows import ROW, PreparedRow, _key
from contacts.models import (
    Company,
    Contact,
    ContactEmail,
    ContactImport,
    ContactPhone,
    ContactTag,
    DuplicateMode,
    ImportRow,
    ImportRowAction,
    Source,
    Tag,
    TagSource,
)
from contacts.signals import contacts_changed
from crm import policy
from crm.models import User
from crm.visibility import can_see


@dataclass
class _Target:
    """A contact a batch creates or changes, with its emails, phones and tags as they will be."""

    contact: "Contact | _NewContact"
    emails: list
    phones: list
    tags: list  # names
    new: bool
    company_name: str = ""
    changed: set = field(default_factory=set)


class _NewContact:
    """The column values of a contact about to be created (a model instance per row costs too much)."""

    def __init__(self, values: dict):
        self.__dict__.update(values)

    @property
    def pk(self):
        return self.id


def _copy(model, columns: list[str], rows: Iterable[tuple]) -> None:
    """Insert rows with COPY: the fastest way into PostgreSQL (triggers and constraints still apply)."""
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _json(value):
    from psycopg.types.json import Jsonb

    return None if value is None else Jsonb(value)


def _json_value(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


_CONSENT_FIELDS = {c: (f"{c}_opt_in", f"{c}_opt_in_at", f"{c}_opt_in_source") for c in services.CONSENT_CHANNELS}


class _Batcher:
    """Commits one batch of prepared rows: duplicates, companies, tags, bulk inserts and updates, ImportRows."""

    def __init__(self, contact_import: ContactImport, user: User):
        self.imp = contact_import
        self.user = user
        self.mode = contact_import.duplicate_mode
        self.companies: dict[str, int] = {}
        self.tags: dict[str, int] = {}
        self.consent_source = (_("Import of %(file)s") % {"file": contact_import.filename})[:100]
        fields = Contact._meta.concrete_fields
        self.columns = [f.column for f in fields]
        self.attnames = [f.attname for f in fields]
        self.defaults = {f.attname: f.get_default() for f in fields}
        self.defaults.update(source=Source.IMPORT, import_batch_id=contact_import.pk, created_by_id=user.pk,
                             owner_id=user.pk, team_id=user.team_id)  # assign_owner: the owner's team

    # Decisions (no writes) -----------------------------------------------------------------------

    def _existing(self, rows: list[PreparedRow]):
        """Contacts (outside the trash) sharing an email or phone with the rows: `find_duplicates`' rule.

        Asked as three index lookups by value and by id rather than through find_duplicates' subquery:
        while a first big import grows the table the planner's statistics lag behind, and the
        subquery form then got a scan of every contact per batch. This form also says which key matched.
        """
        emails = {e for r in rows for e in r.emails}
        phones = {n for r in rows for n, _k in r.phones}
        if not emails and not phones:
            return {}, {}, {}
        email_hits = sorted((cid, email) for email, cid in
                            ContactEmail.objects.filter(email__in=emails).values_list("email", "contact_id"))
        phone_hits = sorted((cid, number) for number, cid in
                            ContactPhone.objects.filter(number__in=phones).values_list("number", "contact_id"))
        ids = {cid for cid, _k in email_hits} | {cid for cid, _k in phone_hits}
        if not ids:
            return {}, {}, {}
        qs = Contact.objects.filter(pk__in=sorted(ids))
        if self.mode == DuplicateMode.UPDATE:
            qs = qs.select_for_update(of=("self",))
        else:
            qs = qs.only("first_name", "last_name", "email", "phone", "owner_id", "team_id")
        contacts = {c.pk: c for c in qs}
        by_key = {}
        for cid, email in email_hits:
            if cid in contacts:
                by_key.setdefault(("e", email), cid)
        for cid, number in phone_hits:
            if cid in contacts:
                by_key.setdefault(("p", number), cid)
        targets = {}
        if self.mode == DuplicateMode.UPDATE and contacts:
            all_emails, all_phones, tags = {}, {}, {}
            for cid, email in ContactEmail.objects.filter(contact_id__in=list(contacts)).order_by(
                    "contact_id", "-is_primary", "id").values_list("contact_id", "email"):
                all_emails.setdefault(cid, []).append(email)
            for cid, number, kind in ContactPhone.objects.filter(contact_id__in=list(contacts)).order_by(
                    "contact_id", "-is_primary", "id").values_list("contact_id", "number", "kind"):
                all_phones.setdefault(cid, []).append((number, kind))
            for cid, name in ContactTag.objects.filter(contact_id__in=list(contacts)).values_list("contact_id",
                                                                                                  "tag__name"):
                tags.setdefault(cid, []).append(name)
            for cid, contact in contacts.items():
                targets[cid] = _Target(contact=contact, emails=all_emails.get(cid, []), phones=all_phones.get(cid, []),
                                       tags=tags.get(cid, []), new=False)
        return contacts, by_key, targets

    def _new_target(self, row: PreparedRow, now) -> _Target:
        contact = _NewContact({**self.defaults, "created_at": now, "updated_at": now, **row.fields})
        for channel, granted in row.consent.items():
            name, at, source = _CONSENT_FIELDS[channel]
            setattr(contact, name, granted)
            setattr(contact, at, now)
            setattr(contact, source, self.consent_source)
        return _Target(contact=contact, emails=list(row.emails), phones=list(row.phones), tags=list(row.tags),
                       new=True, company_name=row.company)

    def _apply(self, target: _Target, row: PreparedRow, now) -> dict:
        """Fill `target` with the row's non-empty values; return what they were before (for undo)."""
        contact, before = target.contact, {}
        for name, value in row.fields.items():
            if getattr(contact, name) == value:
                continue
            before[name] = _json_value(getattr(contact, name))
            setattr(contact, name, value)
            target.changed.add(name)
        for channel, granted in row.consent.items():
            for name in _CONSENT_FIELDS[channel]:
                before.setdefault(name, _json_value(getattr(contact, name)))
            name, at, source = _CONSENT_FIELDS[channel]
            setattr(contact, name, granted)
            setattr(contact, at, now)
            setattr(contact, source, self.consent_source)
            target.changed.update(_CONSENT_FIELDS[channel])
        if row.company:
            before["company_id"] = contact.company_id
            target.company_name = row.company
            target.changed.add("company")
        new_emails = [e for e in row.emails if e not in target.emails]
        if new_emails:
            before["emails"] = list(target.emails)
            target.emails.extend(new_emails)
        known = {n for n, _k in target.phones}
        new_phones = [p for p in row.phones if p[0] not in known]
        if new_phones:
            before["phones"] = [list(p) for p in target.phones]
            target.phones.extend(new_phones)
        known_tags = {t.casefold() for t in target.tags}
        new_tags = [t for t in row.tags if t.casefold() not in known_tags]
        if new_tags:
            before["tags"] = list(target.tags)
            target.tags.extend(new_tags)
        return before

    def _duplicate_message(self, contact: Contact | None, first_row: int | None) -> str:
        if first_row is not None:
            return _("The same email or phone as row %(row)s of this file.") % {"row": first_row}
        if can_see(self.user, contact):
            return _("A contact with this email or phone already exists: %(name)s.") % {"name": str(contact)}
        return _("A contact with this email or phone already exists in another team's records.")

    # The batch ------------------------------------------------------------------------------------

    def commit(self, rows: list[PreparedRow]) -> dict[str, int]:
        now = timezone.now()
        with transaction.atomic():
            valid = [r for r in rows if not r.errors]
            existing, by_key, targets = self._existing(valid)
            in_file: dict = {}  # key -> (target or None, row number) for keys of rows this batch imports
            outcome = {}  # row number -> (action, target, before)
            for row in valid:
                keys = [("e", e) for e in row.emails] + [("p", n) for n, _k in row.phones]
                match = None
                for key in keys:
                    if key in in_file:
                        match = (*in_file[key], key)
                        break
                    if key in by_key:
                        cid = by_key[key]
                        match = (targets.get(cid) or existing[cid], None, key)
                        break
                target = None
                if match is None or self.mode == DuplicateMode.CREATE:
                    target = self._new_target(row, now)
                    outcome[row.number] = (ImportRowAction.CREATED, target, None)
                else:
                    found, first_row, key = match
                    column = row.email_columns.get(key[1]) or row.phone_columns.get(key[1]) or ROW
                    if self.mode == DuplicateMode.SKIP:
                        contact = found.contact if isinstance(found, _Target) else found
                        row.add_error(column, self._duplicate_message(contact, first_row))
                        outcome[row.number] = (ImportRowAction.SKIPPED, None, None)
                        continue
                    if not found.new and not policy.can_edit(self.user, found.contact):
                        row.add_error(column, _("This contact belongs to another team; you cannot update it."))
                        outcome[row.number] = (ImportRowAction.REJECTED, None, None)
                        continue
                    target = found
                    outcome[row.number] = (ImportRowAction.UPDATED, target, self._apply(target, row, now))
                for key in keys:
                    in_file.setdefault(key, (target, row.number))
            counts = dict.fromkeys(ImportRowAction.values, 0)
            for row in rows:
                counts[outcome.get(row.number, (ImportRowAction.REJECTED,))[0]] += 1
            # first write of the transaction: it also gives the COPYs below their pghistory context
            ContactImport.objects.filter(pk=self.imp.pk).update(
                processed_rows=F("processed_rows") + len(rows), created_count=F("created_count") + counts["created"],
                updated_count=F("updated_count") + counts["updated"], skipped_count=F("skipped_count") + counts["skipped"],
                error_count=F("error_count") + counts["rejected"], updated_at=now,
            )
            touched = {id(t): t for _a, t, _b in outcome.values() if t is not None}
            self._write(list(touched.values()), now)
            import_rows = []
            for row in rows:
                action, target, before = outcome.get(row.number, (ImportRowAction.REJECTED, None, None))
                import_rows.append((
                    self.imp.pk, row.number, action, target.contact.pk if target else None,
                    _json({} if action == ImportRowAction.CREATED else row.values), _json(before), _json(row.errors),
                ))
            _copy(ImportRow, ["contact_import_id", "row_number", "action", "contact_id", "values", "before", "errors"],
                  import_rows)
        return counts

    def _company_ids(self, names: Iterable[str]) -> None:
        missing = {}
        for name in names:  # the first spelling in the file names a new company
            if _key(name) not in self.companies:
                missing.setdefault(_key(name), name)
        if not missing:
            return
        found = (Company.objects.visible_to(self.user).annotate(lname=Lower("name"))
                 .filter(lname__in=[n.lower() for n in missing.values()]).order_by("pk").values_list("name", "pk"))
        for name, pk in found:
            self.companies.setdefault(_key(name), pk)
        for key, name in missing.items():
            if key not in self.companies:
                self.companies[key] = services.create_company(by=self.user, name=name).pk

    def _tag_ids(self, names: Iterable[str]) -> None:
        missing = {}
        for name in names:
            if name.lower() not in self.tags:
                missing.setdefault(name.lower(), name)
        if not missing:
            return
        Tag.objects.bulk_create([Tag(name=n) for n in missing.values()], ignore_conflicts=True)
        for name, pk in Tag.objects.annotate(lname=Lower("name")).filter(lname__in=list(missing)).values_list("name", "pk"):
            self.tags[name.lower()] = pk

    def _create(self, targets: list[_Target], now) -> None:
        """New contacts and their emails, phones and tags, with ids taken from the sequence, by COPY."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [Contact._meta.db_table, len(targets)])
            ids = [pk for (pk,) in cursor.fetchall()]
        for target, pk in zip(targets, ids, strict=True):
            target.contact.id = pk
        attnames = self.attnames
        _copy(Contact, self.columns, ([getattr(t.contact, a) for a in attnames] for t in targets))
        _copy(ContactEmail, ["contact_id", "email", "is_primary"],
              ((t.contact.id, email, i == 0) for t in targets for i, email in enumerate(t.emails)))
        _copy(ContactPhone, ["contact_id", "number", "kind", "is_primary"],
              ((t.contact.id, number, kind, i == 0) for t in targets for i, (number, kind) in enumerate(t.phones)))
        _copy(ContactTag, ["contact_id", "tag_id", "source", "created_at"],
              ((t.contact.id, tag_id, TagSource.IMPORT, now) for t in targets
               for tag_id in dict.fromkeys(self.tags[name.lower()] for name in t.tags)))

    def _write(self, targets: list[_Target], now) -> None:
        self._company_ids(t.company_name for t in targets if t.company_name)
        self._tag_ids(name for t in targets for name in t.tags)
        for t in targets:
            if t.company_name:
                t.contact.company_id = self.companies[_key(t.company_name)]
            t.contact.email = t.emails[0] if t.emails else ""
            t.contact.phone = t.phones[0][0] if t.phones else ""
            t.contact.search_text = services.contact_search_text(
                first_name=t.contact.first_name, last_name=t.contact.last_name, emails=t.emails,
                phones=[n for n, _k in t.phones])
        new = [t for t in targets if t.new]
        if new:
            self._create(new, now)
        changed = [t for t in targets if not t.new]
        if changed:
            self._update(changed, now)
        contacts_changed.send(sender=Contact)

    def _update(self, targets: list[_Target], now) -> None:
        """Existing contacts: changed fields in one UPDATE per chunk, the emails, phones and tags they gain."""
        for t in targets:
            t.contact.updated_at = now
        names = {"email", "phone", "search_text", "updated_at"}.union(*(t.changed for t in targets))
        Contact.objects.bulk_update([t.contact for t in targets], sorted(names), batch_size=500)
        ids = [t.contact.pk for t in targets]
        existing_emails = set(ContactEmail.objects.filter(contact_id__in=ids).values_list("contact_id", "email"))
        existing_phones = set(ContactPhone.objects.filter(contact_id__in=ids).values_list("contact_id", "number"))
        has_email = {cid for cid, _e in existing_emails}
        has_phone = {cid for cid, _n in existing_phones}
        emails, phones, links = [], [], []
        for t in targets:
            cid = t.contact.pk
            emails.extend(ContactEmail(contact_id=cid, email=email, is_primary=i == 0 and cid not in has_email)
                          for i, email in enumerate(t.emails) if (cid, email) not in existing_emails)
            phones.extend(ContactPhone(contact_id=cid, number=number, kind=kind, is_primary=i == 0 and cid not in has_phone)
                          for i, (number, kind) in enumerate(t.phones) if (cid, number) not in existing_phones)
            links.extend(ContactTag(contact_id=cid, tag_id=tag_id, source=TagSource.IMPORT, created_at=now)
                         for tag_id in dict.fromkeys(self.tags[n.lower()] for n in t.tags))
        ContactEmail.objects.bulk_create(emails)
        ContactPhone.objects.bulk_create(phones)
        ContactTag.objects.bulk_create(links, ignore_conflicts=True)
