"""Time the contact import on a realistic messy CSV (default 100,000 rows). Run by hand.

Generates the file with Faker (bn_BD and en_US names): a BOM, Windows line ends, blank lines, phones
written every way people write them (01712-345678, +880 1712 345678, Bengali digits, 1712345678.0
from a spreadsheet), some bad emails and phones, duplicates inside the file and against contacts
already in the database, company names in varying case, tags, stages in English and Bengali.
Then runs `contacts.imports.run` directly (or, with --worker, through a real Celery worker) and
prints rows per second.
"""

import argparse
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("CELERY_QUEUE", f"bench-import-{uuid.uuid4().hex[:6]}")  # --worker: a queue of its own

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from faker import Faker  # noqa: E402

from contacts import imports  # noqa: E402
from contacts.models import Contact, ContactEmail, ContactImport, ContactPhone, ContactTag, ImportRow  # noqa: E402
from crm.models import OrgSettings, Team, User, WorkerHeartbeat  # noqa: E402

BENGALI = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")
STAGES = ["lead", "Lead", "customer", "Customer", "গ্রাহক", "লিড", "Subscriber", "opportunity", "MQL", ""]
CITIES = ["Dhaka", "ঢাকা", "Chattogram", "চট্টগ্রাম", "Sylhet", "Khulna", "Rajshahi", "Barishal", "Rangpur", ""]
TAGS = ["vip", "tea", "coffee", "ফ্যাশন", "electronics", "books", "wholesale", "retail", "b2b", "eid-offer"]


def phone_text(rng: random.Random, number: int) -> str:
    digits = f"01{rng.choice('3456789')}{number:08d}"
    form = rng.random()
    if form < 0.35:
        return digits
    if form < 0.55:
        return f"{digits[:5]}-{digits[5:]}"
    if form < 0.70:
        return f"+880 {digits[1:5]} {digits[5:]}"
    if form < 0.80:
        return digits.translate(BENGALI)
    if form < 0.90:
        return f"{digits[1:]}.0"  # a spreadsheet's number
    if form < 0.99:
        return "880" + digits[1:]
    return "12345"  # bad


def generate(rows: int, existing: list[str], seed: int = 7) -> bytes:
    rng = random.Random(seed)
    fakes = [Faker("bn_BD"), Faker("en_US")]
    for fake in fakes:
        fake.seed_instance(seed)
    companies = [fakes[1].company() for _ in range(400)] + [fakes[0].company() for _ in range(100)]
    header = "First name,Last name,Email,Mobile,Company,Job title,City,Lifecycle stage,Tags,Notes"
    lines, emails = [header], []
    for i in range(rows):
        if rng.random() < 0.005:
            lines.append("")  # blank line
        fake = fakes[0] if rng.random() < 0.5 else fakes[1]
        first, last = fake.first_name(), fake.last_name()
        if rng.random() < 0.02 and emails:
            email = rng.choice(emails).upper()  # the same person again, further down
        elif rng.random() < 0.02 and existing:
            email = rng.choice(existing)  # already in the CRM
        elif rng.random() < 0.01:
            email = f"{i}@@broken"
        else:
            email = f"{fakes[1].user_name()}{i}@example.com"
            emails.append(email)
        company = rng.choice(companies)
        company = company.lower() if rng.random() < 0.2 else company
        notes = fakes[1].sentence() if rng.random() < 0.2 else ""
        tags = "; ".join(rng.sample(TAGS, rng.randint(0, 2)))
        cells = [first, last, email, phone_text(rng, 10_000_000 + i), company, fake.job()[:100],
                 rng.choice(CITIES), rng.choice(STAGES), tags, notes]
        lines.append(",".join('"' + c.replace('"', '""') + '"' if ("," in c or '"' in c) else c for c in cells))
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def clean_up(contact_import: ContactImport) -> None:
    """Remove what the import made, history included (a bench database: triggers are skipped to be quick)."""
    from django.apps import apps

    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        ids = Contact.all_objects.filter(import_batch=contact_import).values("pk")
        for model in (ContactTag, ContactEmail, ContactPhone):
            model.objects.filter(contact_id__in=ids)._raw_delete(connection.alias)
        ImportRow.objects.filter(contact_import=contact_import)._raw_delete(connection.alias)
        Contact.all_objects.filter(import_batch=contact_import)._raw_delete(connection.alias)
        for model in apps.get_app_config("contacts").get_models():
            if any(f.name == "pgh_context" for f in model._meta.fields):
                model.objects.filter(pgh_context__metadata__import_id=contact_import.pk)._raw_delete(connection.alias)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
    contact_import.delete()


def run_in_worker(contact_import: ContactImport, importer: User) -> float:
    queue = os.environ["CELERY_QUEUE"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "-P", "solo", "-Q", queue, "-n", f"{queue}@%h",
         "--without-mingle", "--without-gossip", "-l", "warning"],
        cwd=Path(__file__).resolve().parent.parent, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not WorkerHeartbeat.objects.filter(hostname__startswith=queue).exists():
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.2)
        started = time.monotonic()
        imports.start_import(by=importer, contact_import=contact_import)
        while ContactImport.objects.filter(pk=contact_import.pk, status__in=["queued", "running"]).exists():
            time.sleep(0.5)
        return time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--mode", choices=["skip", "update", "create"], default="skip")
    parser.add_argument("--worker", action="store_true", help="run through a real Celery worker (-P solo)")
    parser.add_argument("--keep", action="store_true", help="keep the imported contacts")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of the run")
    parser.add_argument("--undo", action="store_true", help="then time undoing the import")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    OrgSettings.load()
    team, _ = Team.objects.get_or_create(name="Bench import team")
    importer, _ = User.objects.get_or_create(email="bench-importer@example.com",
                                             defaults={"full_name": "Bench Importer", "team": team})
    seed = imports.create_import(by=importer, filename="seed.csv",
                                 data=b"Name,Email\n" + "".join(
                                     f"Seed {i},seed{i}@example.com\n" for i in range(2000)).encode())
    ContactImport.objects.filter(pk=seed.pk).update(status="queued")  # run here, not by a worker
    imports.run(seed.pk)
    existing = [f"seed{i}@example.com" for i in range(2000)]

    started = time.monotonic()
    data = generate(args.rows, existing)
    print(f"generated {args.rows:,} rows ({len(data) / 1024 / 1024:.1f} MB) in {time.monotonic() - started:.1f} s")
    contact_import = imports.create_import(by=importer, filename="bench.csv", data=data)
    imports.update_mapping(by=importer, contact_import=contact_import, duplicate_mode=args.mode)
    print("mapping:", {contact_import.headers[int(i)]: t for i, t in contact_import.mapping.items()})
    try:
        if args.worker:
            elapsed = run_in_worker(contact_import, importer)
        else:
            ContactImport.objects.filter(pk=contact_import.pk).update(status="queued")
            last = [0.0]

            def progress(done, total):
                if time.monotonic() - last[0] > 5:
                    last[0] = time.monotonic()
                    print(f"  {done:,} / {total:,}")

            started = time.monotonic()
            if args.profile:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                outcome = profiler.runcall(imports.run, contact_import.pk, progress=progress)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            else:
                outcome = imports.run(contact_import.pk, progress=progress)
            elapsed = time.monotonic() - started
            assert outcome == "done", outcome
        contact_import.refresh_from_db()
        total = contact_import.total_rows
        print(f"status {contact_import.status}; {total:,} rows: created {contact_import.created_count:,}, "
              f"updated {contact_import.updated_count:,}, skipped {contact_import.skipped_count:,}, "
              f"rejected {contact_import.error_count:,} {contact_import.failure}")
        print(f"import took {elapsed:.1f} s: {total / elapsed:,.0f} rows/s{' (through a worker)' if args.worker else ''}")
        if args.undo:
            imports.request_undo(by=importer, contact_import=contact_import)
            started = time.monotonic()
            assert imports.undo(contact_import.pk) == "done"
            elapsed = time.monotonic() - started
            print(f"undo took {elapsed:.1f} s: {contact_import.created_count / elapsed:,.0f} created contacts deleted per s")
    finally:
        if not args.keep:
            clean_up(contact_import)
        clean_up(seed)


if __name__ == "__main__":
    main()
