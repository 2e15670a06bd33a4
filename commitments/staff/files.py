"""Reading a staff list from CSV or XLSX into plain rows, and the template files.

What a referent's spreadsheet may look like, and what happens:

* **XLSX** (recognised by content, whatever the name): the first sheet; cells
  that are formulas arrive as text starting with ``=`` and are refused later.
  The archive is checked before opening (entries, uncompressed size).
* **CSV**: UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode
  text"), and otherwise Windows-1252 (Excel's "CSV" on Italian Windows) as
  the fallback; the separator is found from the header line among ``;``
  (Excel in Italian), ``,`` and tab.
* Header names are matched loosely (case, accents, spaces): ``email``, and
  ``nome e cognome`` or ``nome`` + ``cognome``, ``profilo``, and optionally
  ``unità`` (the unit's name, or its path "Ospedale / Reparto"). Other columns
  are ignored and listed. Empty lines are skipped. Rows are numbered as in the
  spreadsheet (the header is row 1).

File-level problems raise ``FormatError`` with an Italian message.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from flask_babel import gettext as _

from lms.errors import FormatError, FormatIssue
from lms.i18n import file_size

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_ROWS = 5000
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
MAX_ZIP_ENTRIES = 500
MAX_COLUMNS = 50

HEADER_ALIASES = {
    "email": {
        "email",
        "e_mail",
        "mail",
        "indirizzo_email",
        "indirizzo_e_mail",
        "posta_elettronica",
    },
    "full_name": {"nome_e_cognome", "nome_cognome", "cognome_e_nome", "nominativo", "full_name"},
    "first_name": {"nome", "first_name"},
    "last_name": {"cognome", "last_name", "surname"},
    "audience": {"profilo", "profilo_professionale", "pubblico", "audience"},
    "unit": {"unita", "unit", "unita_organizzativa"},
}
TEMPLATE_HEADER = ["email", "nome", "cognome", "profilo", "unità"]  # unità: optional


@dataclass(frozen=True)
class RawRow:
    number: int  # as in the spreadsheet: the header is row 1
    email: str
    full_name: str
    audience: str
    unit: str = ""  # empty: the file says nothing of units (or has no such column)


@dataclass
class ParsedFile:
    kind: str  # "csv" | "xlsx"
    rows: list[RawRow]
    encoding: str | None = None
    delimiter: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    has_units: bool = False  # the file has a unit column


def _problem(message: str, row: int | None = None) -> FormatError:
    return FormatError([FormatIssue("", row, message)])


def normalise_header(value: str) -> str:
    text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def size_problem(size: int, max_bytes: int) -> str | None:
    if size <= max_bytes:
        return None
    return _(
        "Il file è troppo grande (%(size)s): il limite è %(limit)s. Dividi l'elenco in più file.",
        size=file_size(size),
        limit=file_size(max_bytes),
    )


def read_staff_file(
    filename: str,
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> ParsedFile:
    too_large = size_problem(len(data), max_bytes)
    if too_large:
        raise _problem(too_large)
    if not data.strip():
        raise _problem(_("Il file è vuoto."))
    if data.startswith(b"PK\x03\x04"):
        table = _xlsx_rows(data, max_rows)
        parsed = ParsedFile("xlsx", [])
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _problem(
            _("Il formato Excel 97-2003 (.xls) non è supportato: salva il file come .xlsx o CSV.")
        )
    elif filename.lower().endswith((".xlsx", ".xlsm")):
        raise _problem(_("Il file non è un file Excel (.xlsx) valido."))
    else:
        text, encoding = _decode(data)
        delimiter = _delimiter(text)
        table = _csv_rows(text, delimiter, max_rows)
        parsed = ParsedFile("csv", [], encoding=encoding, delimiter=delimiter)
    _rows_from_table(parsed, table, max_rows)
    return parsed


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "UTF-8 (BOM)"
        except UnicodeDecodeError as error:
            raise _problem(
                _("Il file dichiara la codifica UTF-8 ma contiene byte non validi.")
            ) from error
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as error:
            raise _problem(_("Il file UTF-16 contiene byte non validi.")) from error
    if b"\x00" in data:
        raise _problem(_("Il file sembra binario: carica un file CSV o XLSX."))
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as error:
        raise _problem(
            _("Codifica del file non riconosciuta: salvalo come «CSV UTF-8» da Excel.")
        ) from error


def _delimiter(text: str) -> str:
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        unusual = next((c for c in ("|", ":", "/") if c in header), None)
        if unusual:
            raise _problem(
                _(
                    "Separatore «%(sep)s» non supportato: usa il punto e virgola (;), "
                    "la virgola (,) o il tabulatore.",
                    sep=unusual,
                ),
                1,
            )
    return best


def _csv_rows(text: str, delimiter: str, max_rows: int) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    while True:
        number += 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _problem(
                _(
                    "Riga %(n)d: il CSV non è leggibile "
                    "(virgolette non chiuse o campo troppo lungo).",
                    n=number,
                ),
                number,
            ) from error
        yield row


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile as error:
        raise _problem(_("Il file non è un file Excel (.xlsx) valido.")) from error
    if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_UNZIPPED_BYTES:
        raise _problem(_("Il file Excel è troppo grande una volta decompresso."))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _xlsx_rows(data: bytes, max_rows: int) -> list[list[str]]:
    _check_zip(data)
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it cannot read
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            try:
                sheet = workbook.worksheets[0]
                rows = []
                filled = 0
                for values in sheet.iter_rows(values_only=True):
                    row = [_cell_text(v) for v in values[: MAX_COLUMNS + 1]]
                    rows.append(row)
                    filled += any(v.strip() for v in row)
                    if filled > max_rows + 1:  # header + one too many: enough to refuse
                        break
            finally:
                workbook.close()
    except FormatError:
        raise
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise _problem(_("Il file non è un file Excel (.xlsx) valido.")) from error
    return rows


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    found: dict[str, int] = {}
    ignored = []
    for index, raw in enumerate(header):
        name = normalise_header(raw)
        role = next((r for r, names in HEADER_ALIASES.items() if name in names), None)
        if role is None:
            if raw.strip():
                ignored.append(raw.strip())
            continue
        if role in found:
            raise _problem(_("La colonna «%(name)s» compare due volte.", name=raw.strip()), 1)
        found[role] = index
    missing = []
    if "email" not in found:
        missing.append("email")
    if "full_name" not in found and not {"first_name", "last_name"} <= found.keys():
        missing.append(_("nome e cognome (oppure nome + cognome)"))
    if "audience" not in found:
        missing.append("profilo")
    if missing:
        if len(header) == 1:
            message = _(
                "Riga 1: c'è una sola colonna. Il separatore deve essere il punto e virgola (;) "
                "o la virgola (,); colonne richieste: email, nome, cognome, profilo."
            )
        else:
            message = _("Riga 1: mancano le colonne: %(cols)s.", cols=", ".join(missing))
        raise _problem(message, 1)
    return found, ignored


def _rows_from_table(parsed: ParsedFile, table: Iterable[list[str]], max_rows: int) -> None:
    iterator = iter(table)
    header: list[str] | None = None
    number = 0
    for values in iterator:
        number += 1
        if any(v.strip() for v in values):
            header = values
            break
    if header is None:
        raise _problem(_("Il file è vuoto."))
    if len(header) > MAX_COLUMNS:
        raise _problem(_("Troppe colonne (più di %(n)d).", n=MAX_COLUMNS), number)
    columns, parsed.ignored_columns = _columns(header)
    parsed.has_units = "unit" in columns
    header_number = number

    def get(values: list[str], role: str) -> str:
        index = columns.get(role)
        return values[index] if index is not None and index < len(values) else ""

    for values in iterator:
        number += 1
        if not any(v.strip() for v in values):
            continue
        if len(parsed.rows) >= max_rows:
            raise _problem(
                _(
                    "Il file contiene più di %(n)s persone: dividilo in più file.",
                    n=f"{max_rows:,}".replace(",", "."),
                )
            )
        if len(values) > len(header) and any(v.strip() for v in values[len(header) :]):
            raise _problem(
                _(
                    "Riga %(n)d: ci sono %(found)d colonne ma l'intestazione ne ha %(cols)d "
                    "(controlla il separatore e le virgolette).",
                    n=number,
                    found=len(values),
                    cols=len(header),
                ),
                number,
            )
        full = get(values, "full_name")
        if "full_name" not in columns:
            full = f"{get(values, 'first_name')} {get(values, 'last_name')}"
        parsed.rows.append(
            RawRow(number, get(values, "email"), full, get(values, "audience"), get(values, "unit"))
        )
    if not parsed.rows:
        raise _problem(_("Il file non contiene persone dopo l'intestazione."), header_number)


# --- Template files ---------------------------------------------------------------------


def template_csv() -> bytes:
    """Header only, UTF-8 with BOM and semicolons: opens cleanly in Excel in Italian."""
    return codecs.BOM_UTF8 + (";".join(TEMPLATE_HEADER) + "\r\n").encode("utf-8")


def template_xlsx(audiences: list[tuple[str, str]]) -> bytes:
    """Header, a drop-down list of profiles, and a sheet explaining the columns."""
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Personale"
    sheet.append(TEMPLATE_HEADER)
    for column, width in zip("ABCDE", (36, 20, 24, 44, 40), strict=True):
        sheet.column_dimensions[column].width = width
    help_sheet = workbook.create_sheet("Profili")
    help_sheet.append([_("Codice"), _("Profilo")])
    for code, name in audiences:
        help_sheet.append([code, name])
    help_sheet.column_dimensions["A"].width = 28
    help_sheet.column_dimensions["B"].width = 56
    last = len(audiences) + 1
    validation = DataValidation(type="list", formula1=f"=Profili!$B$2:$B${last}", allow_blank=True)
    validation.error = _("Scegli un profilo dall'elenco (foglio «Profili»).")
    sheet.add_data_validation(validation)
    validation.add("D2:D5001")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
