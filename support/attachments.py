"""Attachments of ticket messages: size- and type-limited, stored via Django's storage API under generated names.

A file is accepted when its extension is on the list *and* its first bytes look like that kind of file (a
`.pdf` must start with `%PDF`), so a renamed executable is refused. Text kinds have no signature; they must not
contain NUL bytes.
"""

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from support.models import Attachment, TicketMessage

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 10

#: extension -> (content type, accepted leading bytes; empty: a text kind)
KINDS = {
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", (b"RIFF",)),
    "pdf": ("application/pdf", (b"%PDF",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "zip": ("application/zip", (b"PK\x03\x04",)),
    "txt": ("text/plain", ()),
    "csv": ("text/csv", ()),
}


def _read(file) -> tuple[str, bytes]:
    """(filename, content) of an UploadedFile or a (filename, content type, bytes) triple."""
    if isinstance(file, tuple):
        name, _type, data = file
        return name, data
    if file.size is not None and file.size > MAX_BYTES:
        return file.name, b"x" * (MAX_BYTES + 1)  # refused below without reading a huge upload into memory
    return file.name, file.read()


def check_file(name: str, data: bytes) -> str:
    """The content type to store for an acceptable file; ValidationError (field `attachments`) otherwise."""
    clean_name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    ext = clean_name.rsplit(".", 1)[-1].lower() if "." in clean_name else ""
    if len(data) > MAX_BYTES:
        raise ValidationError({"attachments": _("“%(name)s” is larger than %(limit)s MB.") % {
            "name": clean_name, "limit": MAX_BYTES // (1024 * 1024)}})
    kind = KINDS.get(ext)
    if kind is None:
        raise ValidationError({"attachments": _("“%(name)s”: this kind of file is not accepted (allowed: %(kinds)s).")
                               % {"name": clean_name, "kinds": ", ".join(sorted(KINDS))}})
    content_type, signatures = kind
    if signatures and not any(data.startswith(sig) for sig in signatures):
        raise ValidationError({"attachments": _("“%(name)s” does not look like a .%(ext)s file.") % {
            "name": clean_name, "ext": ext}})
    if not signatures and b"\x00" in data[:8192]:
        raise ValidationError({"attachments": _("“%(name)s” does not look like a text file.") % {"name": clean_name}})
    return content_type


def check_files(files) -> list[tuple[str, str, bytes]]:
    """Read and check every file first (so one bad file stores none): [(filename, content type, bytes)]."""
    files = list(files or ())
    if len(files) > MAX_FILES:
        raise ValidationError({"attachments": _("Attach at most %(count)s files.") % {"count": MAX_FILES}})
    checked = []
    for file in files:
        name, data = _read(file)
        content_type = check_file(name, data)
        checked.append(((name or "file").replace("\\", "/").rsplit("/", 1)[-1][:255], content_type, data))
    return checked


def save_attachments(*, message: TicketMessage, files) -> list[Attachment]:
    saved = []
    for name, content_type, data in check_files(files):
        attachment = Attachment(message=message, filename=name, content_type=content_type, size=len(data))
        attachment.file.save(name, ContentFile(data), save=False)
        attachment.save()
        saved.append(attachment)
    return saved
