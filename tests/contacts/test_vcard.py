"""vCard 3.0/4.0 export and vCard import (2.1/3.0/4.0) through the import pipeline."""

import io
from datetime import date

import pytest
from django.urls import reverse

from contacts import imports, vcard
from contacts.models import Contact, ContactImport, ImportRow, ImportStatus
from tests.factories import make_company, make_contact
from tests.visibility import assert_visibility

LONG_NOTE = "চায়ের দোকানে দেখা হয়েছিল; পরের সপ্তাহে, আবার ফোন করতে হবে।\nSecond line, with a \\ backslash " * 3


@pytest.fixture
def rahim(world):
    return make_contact(
        world.rep_a, first_name="রহিম", last_name="উদ্দিন", emails=["rahim@example.com", "rahim.work@example.com"],
        phones=[("01712345678", "mobile"), ("029123456", "work")], job_title="ব্যবস্থাপক",
        company=make_company(world.rep_a, name="Acme; Dhaka"), city="ঢাকা", region="Dhaka", tags=["vip", "চা, কফি"],
        notes=LONG_NOTE, birth_date=date(1990, 1, 31))


def download(client, contact, version):
    response = client.get(reverse("contacts:contact_vcard", args=[contact.pk]), {"version": version})
    assert response.status_code == 200 and response["Content-Type"] == "text/vcard; charset=utf-8"
    return response.content


def unfolded(data: bytes) -> list[str]:
    return data.replace(b"\r\n ", b"").decode().split("\r\n")


def test_vcard_3_has_the_contacts_fields(world, client_for, rahim):
    lines = unfolded(download(client_for(world.rep_a), rahim, "3.0"))
    assert lines[:2] == ["BEGIN:VCARD", "VERSION:3.0"] and lines[-2:] == ["END:VCARD", ""]
    for expected in ["N:উদ্দিন;রহিম;;;", "FN:রহিম উদ্দিন", "ORG:Acme\\; Dhaka", "TITLE:ব্যবস্থাপক",
                     "EMAIL;TYPE=INTERNET,PREF:rahim@example.com", "EMAIL;TYPE=INTERNET:rahim.work@example.com",
                     "TEL;TYPE=CELL,PREF:+8801712345678", "TEL;TYPE=WORK,VOICE:+88029123456",
                     "ADR;TYPE=HOME:;;;ঢাকা;Dhaka;;BD", "BDAY:1990-01-31", "CATEGORIES:vip,চা\\, কফি"]:
        assert expected in lines, expected
    assert any(line.startswith("UID:") for line in lines) and any(line.startswith("REV:") for line in lines)


def test_vcard_4_uses_its_own_forms(world, client_for, rahim):
    lines = unfolded(download(client_for(world.rep_a), rahim, "4.0"))
    assert "VERSION:4.0" in lines and "EMAIL;PREF=1:rahim@example.com" in lines
    assert 'TEL;VALUE=uri;TYPE="cell";PREF=1:tel:+8801712345678' in lines and "BDAY:19900131" in lines
    assert any(line.startswith("UID:urn:uuid:") for line in lines)


def test_long_lines_are_folded_at_75_octets_without_splitting_a_character(world, client_for, rahim):
    data = download(client_for(world.rep_a), rahim, "3.0")
    physical = data.split(b"\r\n")
    assert max(len(line) for line in physical) <= 75 and len(physical) > 20
    for line in physical:
        line.decode("utf-8")  # every line is whole UTF-8 on its own
    note = next(line for line in unfolded(data) if line.startswith("NOTE:"))
    assert vcard.unescape(note[5:]) == LONG_NOTE.strip()


def test_exporting_a_contact_of_another_team_is_404(world, client_for, rahim):
    assert_visibility(world, client_for, reverse("contacts:contact_vcard", args=[rahim.pk]))


def test_unknown_vcard_version_is_a_clear_400(world, client_for, rahim):
    response = client_for(world.rep_a).get(reverse("contacts:contact_vcard", args=[rahim.pk]), {"version": "2.1"})
    assert response.status_code == 400 and "3.0 or 4.0" in response.content.decode()


def import_vcards(client, data: bytes, mode="skip", name="contacts.vcf") -> ContactImport:
    file = io.BytesIO(data)
    file.name = name
    response = client.post(reverse("contacts:vcard_import"), {"file": file, "duplicate_mode": mode})
    assert response.status_code == 302, response.content.decode()
    imp = ContactImport.objects.latest("pk")
    assert imp.status == ImportStatus.QUEUED and imports.run(imp.pk) == "done"
    imp.refresh_from_db()
    return imp


def snapshot(contact: Contact) -> tuple:
    return (contact.first_name, contact.last_name, contact.job_title, contact.city, contact.region, contact.birth_date,
            contact.company.name if contact.company else None,
            list(contact.emails.values_list("email", "is_primary")),
            list(contact.phones.values_list("number", "kind", "is_primary")),
            sorted(contact.tags.values_list("name", flat=True)), contact.notes)


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_export_then_import_gives_the_same_contacts(world, client_for, rahim, version):
    other = make_contact(world.rep_a, first_name="Nusrat", last_name="Jahan", emails=["nusrat@example.com"],
                         phones=[("01812345678", "whatsapp"), ("01912345678", "home")], tags=["tea"])
    client = client_for(world.rep_a)
    data = download(client, rahim, version) + download(client, other, version)
    expected = {c.first_name: snapshot(c) for c in (rahim, other)}
    imp = import_vcards(client, data, mode="create")
    assert (imp.total_rows, imp.created_count, imp.error_count) == (2, 2, 0)
    imported = {c.first_name: snapshot(c) for c in Contact.objects.filter(import_batch=imp)}
    assert imported == expected


def test_vcard_2_1_quoted_printable_and_folded_lines_are_read(world, client_for):
    card = (b"BEGIN:VCARD\r\nVERSION:2.1\r\n"
            b"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E0=A6=89=E0=A6=A6=E0=A7=8D=E0=A6=A6=E0=A6=BF=E0=A6=A8;=\r\n"
            b"=E0=A6=B0=E0=A6=B9=E0=A6=BF=E0=A6=AE;;;\r\n"
            b"TEL;CELL;PREF:01712345678\r\nTEL;WORK:029123456\r\n"
            b"EMAIL;INTERNET:rahim@exa\r\n mple.com\r\nPHOTO;ENCODING=BASE64;JPEG:AAAA\r\n  BBBB\r\n"
            b"NOTE:\xe0\xa6\x9a\xe0\xa6\xbe\r\n \xe0\xa6\xaf\xe0\xa6\xbc\r\nEND:VCARD\r\n")
    imp = import_vcards(client_for(world.rep_a), card)
    contact = Contact.objects.get(import_batch=imp)
    assert (contact.first_name, contact.last_name, contact.email, contact.notes) == ("রহিম", "উদ্দিন", "rahim@example.com",
                                                                                    "চায়")
    assert list(contact.phones.values_list("number", "kind")) == [("+8801712345678", "mobile"), ("+88029123456", "work")]


def test_vcard_import_reports_each_card_like_a_row(world, client_for):
    make_contact(world.rep_a, first_name="Existing", emails=["existing@example.com"])
    cards = b"".join(
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:%s\r\nEMAIL:%s\r\nEND:VCARD\r\n" % (name, email)
        for name, email in [(b"Good One", b"good@example.com"), (b"Bad Mail", b"bad@@mail"),
                            (b"Old Friend", b"existing@example.com")])
    imp = import_vcards(client_for(world.rep_a), cards)
    assert (imp.total_rows, imp.created_count, imp.error_count, imp.skipped_count) == (3, 1, 1, 1)
    assert dict(ImportRow.objects.filter(contact_import=imp).values_list("row_number", "action")) == {
        1: "created", 2: "rejected", 3: "skipped"}
    good = Contact.objects.get(import_batch=imp)
    assert (good.first_name, good.last_name, good.source) == ("Good", "One", "import")


def test_vcard_import_refuses_other_files_with_a_field_error(world, client_for):
    file = io.BytesIO(b"Name,Email\nRahim,rahim@example.com\n")
    file.name = "contacts.csv"
    response = client_for(world.rep_a).post(reverse("contacts:vcard_import"), {"file": file, "duplicate_mode": "skip"})
    assert response.status_code == 400 and "Upload a vCard (.vcf) file." in response.content.decode()
    assert not ContactImport.objects.exists()


def test_parser_keeps_escaped_separators_and_quoted_parameters():
    card = vcard.parse(b'BEGIN:VCARD\nVERSION:4.0\nN:Doe\\;Smith;Jane;;;\nTEL;TYPE="work,voice";VALUE=uri:tel:+8801712345678\n'
                       b"CATEGORIES:a\\,b,c\nEND:VCARD\n")[0]
    row = vcard.card_row(card)
    assert (row[0], row[1]) == ("Jane", "Doe;Smith")
    assert row[4] == ["+8801712345678 (work)"] and row[10] == ["a,b", "c"]
