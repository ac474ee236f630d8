"""Contact import from CSV, XLSX and vCard files: read, map columns, validate, find duplicates, commit, report, undo.

The flow: `create_import` keeps the uploaded file (in PostgreSQL, so any worker can read it) and
suggests a column mapping; `preview` shows the first rows as they will be imported; `start_import`
saves the mapping and queues `contacts.tasks.run_import`, which calls `run`. `run` commits rows in
batches (one transaction each, bulk inserts) and, run again, resumes after the last committed row
(an ImportRow per row, unique per import, is the record of what is done). `request_undo` + `undo`
delete what the import created and put back what it changed.

Imported contacts are made like hand-made ones: the services' email/phone cleaning and search text,
owner and team through `assign_owner`, companies through `create_company`.

One module per step: `reading` (the file as a table), `mapping` (which column is what), `rows`
(a row as a contact's values, or its errors), `batches` (committing a batch), `running` (the
batches of a run, progress, resuming), `undoing`, `report` (the rows not imported) and `lifecycle`
(upload, preview, start, retry, undo request). This package re-exports what the rest of the app
uses; to change a constant in a test, patch the module that reads it (`running.BATCH_SIZE`).
"""

from contacts.imports.lifecycle import (
    MAX_FILE_BYTES,
    PREVIEW_ROWS,
    STUCK_AFTER,
    create_import,
    create_vcard_import,
    imports_visible_to,
    preview,
    request_undo,
    retry_import,
    start_import,
    stuck_imports,
    update_mapping,
)
from contacts.imports.mapping import IDENTITY_TARGETS, MULTI_TARGETS, PHONE_TARGETS, TARGETS, clean_mapping, suggest_mapping
from contacts.imports.reading import count_rows, detect_encoding, file_kind, read_table
from contacts.imports.report import error_report_lines, problem_rows, reasons
from contacts.imports.rows import ROW, PreparedRow, RowReader, split_full_name
from contacts.imports.running import SLICE_SECONDS, run
from contacts.imports.undoing import undo

__all__ = [
    "IDENTITY_TARGETS",
    "MAX_FILE_BYTES",
    "MULTI_TARGETS",
    "PHONE_TARGETS",
    "PREVIEW_ROWS",
    "ROW",
    "SLICE_SECONDS",
    "STUCK_AFTER",
    "TARGETS",
    "PreparedRow",
    "RowReader",
    "clean_mapping",
    "count_rows",
    "create_import",
    "create_vcard_import",
    "detect_encoding",
    "error_report_lines",
    "file_kind",
    "imports_visible_to",
    "preview",
    "problem_rows",
    "read_table",
    "reasons",
    "request_undo",
    "retry_import",
    "run",
    "split_full_name",
    "start_import",
    "stuck_imports",
    "suggest_mapping",
    "undo",
    "update_mapping",
]
