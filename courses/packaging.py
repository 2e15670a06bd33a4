"""Course files in and out: folders, zip uploads, and export.

A zip upload is checked before anything is extracted: entry count (read from the end
of the archive before ``zipfile`` parses its directory), declared sizes, compression ratio,
encryption and compression method, and paths (no absolute paths, no ``..``, no links).
The limits are in ``docs/limits.md`` ("Zip archives").
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from pathlib import Path, PurePosixPath

import yaml
from flask_babel import gettext as _

from courses.accreditation import accreditation_of
from courses.format import MAX_FILES, MAX_TOTAL_BYTES, CourseBundle
from courses.models import CourseVersion
from lms.errors import FormatError, FormatIssue

MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
#: Entries (files and folders) an archive may declare before its directory is parsed.
MAX_ZIP_ENTRIES = 2 * MAX_FILES
SUPPORTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
# End of central directory record (APPNOTE 4.3.16): signature, two disk numbers, entries
# on this disk, entries in total, directory size and offset, comment length. With more than
# 65,534 entries it says 0xFFFF and the zip64 record (4.3.14), which zipfile expects right
# before the 20-byte zip64 locator, holds the count.
_END_RECORD = struct.Struct("<4s4H2LH")
_END_RECORD_64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR_64_SIZE = 20
IGNORED_NAMES = {".DS_Store", "Thumbs.db", ".git", "__MACOSX"}


def read_folder(root: Path) -> dict[str, bytes]:
    """Files of a course folder, relative POSIX paths; hidden files and symlinks skipped."""
    if not (root / "course.md").is_file():
        raise FormatError([FormatIssue(str(root), None, _("manca il file course.md"))])
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") or part in IGNORED_NAMES for part in relative.parts):
            continue
        if path.is_symlink():
            raise FormatError(
                [FormatIssue(str(relative), None, _("i collegamenti simbolici non sono ammessi"))]
            )
        if path.is_file():
            total += path.stat().st_size
            if total > MAX_TOTAL_BYTES or len(files) >= MAX_FILES:
                raise FormatError(
                    [FormatIssue(str(root), None, _("il corso supera i limiti di dimensione"))]
                )
            files[relative.as_posix()] = path.read_bytes()
    return files


def read_zip(data: bytes) -> dict[str, bytes]:
    """Files of a zipped course folder (the folder itself may be the zip's top level)."""
    if len(data) > MAX_ZIP_BYTES:
        raise FormatError(
            [FormatIssue("", None, _("il file zip supera %(mb)d MB", mb=MAX_ZIP_BYTES >> 20))]
        )
    declared_entries = _declared_entries(data)
    if declared_entries is not None and declared_entries > MAX_ZIP_ENTRIES:
        # zipfile would build an object per entry first: 600,000 empty ones fit in 50 MB.
        raise FormatError(
            [FormatIssue("", None, _("troppi file nello zip: %(n)d", n=declared_entries))]
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise FormatError([FormatIssue("", None, _("il file non è uno zip valido"))]) from error
    if any(not i.filename for i in infos):  # e.g. a name that was only a NUL byte
        raise FormatError([FormatIssue("", None, _("percorso non ammesso nello zip"))])
    entries = [i for i in infos if not i.is_dir()]
    if len(entries) > MAX_FILES:
        raise FormatError(
            [FormatIssue("", None, _("troppi file nello zip: %(n)d", n=len(entries)))]
        )
    declared = sum(i.file_size for i in entries)
    if declared > MAX_TOTAL_BYTES:
        raise FormatError(
            [
                FormatIssue(
                    "", None, _("il contenuto dello zip supera %(mb)d MB", mb=MAX_TOTAL_BYTES >> 20)
                )
            ]
        )
    issues: list[FormatIssue] = []
    names: dict[str, zipfile.ZipInfo] = {}
    for info in entries:
        name = info.filename.replace("\\", "/")
        pure = PurePosixPath(name)
        mode = info.external_attr >> 16
        if name.startswith("/") or ".." in pure.parts or (len(name) > 1 and name[1] == ":"):
            issues.append(FormatIssue(name, None, _("percorso non ammesso nello zip")))
        elif stat.S_ISLNK(mode):
            issues.append(FormatIssue(name, None, _("i collegamenti simbolici non sono ammessi")))
        elif info.flag_bits & 0x1:  # zipfile would ask for the password when opening it
            issues.append(
                FormatIssue(
                    name, None, _("file protetto da password: carica uno zip senza password")
                )
            )
        elif info.compress_type not in SUPPORTED_METHODS:
            issues.append(
                FormatIssue(
                    name,
                    None,
                    _(
                        "metodo di compressione non supportato (%(method)d): "
                        "usa la compressione normale (deflate)",
                        method=info.compress_type,
                    ),
                )
            )
        elif info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO:
            issues.append(
                FormatIssue(name, None, _("rapporto di compressione sospetto (zip bomb?)"))
            )
        elif not any(p.startswith(".") or p in IGNORED_NAMES for p in pure.parts):
            names[name] = info
    if issues:
        raise FormatError(issues)
    prefix = _common_folder(list(names))
    files: dict[str, bytes] = {}
    read_total = 0
    for name, info in names.items():
        try:
            with archive.open(info) as handle:
                content = handle.read(info.file_size + 1)  # never trust the declared size alone
        except Exception as error:  # noqa: BLE001 - bad CRC, truncated or corrupt stream
            raise FormatError(
                [FormatIssue(name, None, _("file danneggiato nello zip: caricalo di nuovo"))]
            ) from error
        read_total += len(content)
        if len(content) > info.file_size or read_total > MAX_TOTAL_BYTES:
            raise FormatError(
                [FormatIssue(name, None, _("dimensione dichiarata non corrispondente"))]
            )
        files[name.removeprefix(prefix)] = content
    return files


def _declared_entries(data: bytes) -> int | None:
    """Entries the archive's end records declare, or ``None`` when they cannot be found
    (then zipfile reads the directory, and the count after it applies)."""
    start = data.rfind(b"PK\x05\x06", max(0, len(data) - _END_RECORD.size - 0xFFFF))
    if start < 0 or start + _END_RECORD.size > len(data):
        return None
    total = _END_RECORD.unpack_from(data, start)[4]
    if total != 0xFFFF:
        return total
    start_64 = start - _LOCATOR_64_SIZE - _END_RECORD_64.size
    if start_64 < 0 or data[start_64 : start_64 + 4] != b"PK\x06\x06":
        return None
    return _END_RECORD_64.unpack_from(data, start_64)[7]


def _common_folder(names: list[str]) -> str:
    if "course.md" in names:
        return ""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        return tops.pop() + "/"
    return ""


def _front_matter(data: dict[str, object]) -> str:
    dumped = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{dumped}---\n"


def version_files(version: CourseVersion) -> dict[str, bytes]:
    """The course folder of a version, as it would be written to disk."""
    meta: dict[str, object] = {
        "slug": version.course.slug,
        "title": version.title,
        "summary": version.summary,
        "audiences": ["all"]
        if version.all_audiences
        else sorted(a.code for a in version.audiences),
        "objectives": list(version.objectives),
        "prerequisites": list(version.prerequisites),
        "language": version.language,
        "version": version.label,
        "self_enrolment": version.self_enrolment,
    }
    if version.estimated_hours:  # 0: none declared
        hours = version.estimated_hours
        meta["estimated_hours"] = float(hours) if hours % 1 else int(hours)
    if version.renewal_months:
        meta["renewal_months"] = version.renewal_months
    if version.evidence is not None:
        meta["evidence"] = version.evidence
    if version.public:
        meta["public"] = True
    accreditation = accreditation_of(version)
    if accreditation is not None:
        declared: dict[str, object] = {
            "body": accreditation.body,
            "provider": accreditation.provider,
            "event": accreditation.event,
            "credits": float(accreditation.credits),
        }
        for key in ("valid_from", "valid_until"):
            if getattr(accreditation, key):
                declared[key] = getattr(accreditation, key)
        meta["accreditation"] = declared
    # The author's own front matter when kept (0015): comments, quotes and key order.
    front = f"---\n{version.front_matter}---\n" if version.front_matter else _front_matter(meta)
    files = {"course.md": (front + version.intro_md + "\n").encode()}
    for module in version.modules:
        header: dict[str, object] = {"title": module.title}
        if module.estimated_minutes:
            header["estimated_minutes"] = module.estimated_minutes
        if not module.required:
            header["required"] = False
        front = f"---\n{module.front_matter}---\n" if module.front_matter else None
        files[module.filename] = ((front or _front_matter(header)) + module.body_md).encode()
    for asset in version.assets:
        files[asset.path] = asset.content
    return files


def write_folder(files: dict[str, bytes], target: Path) -> None:
    for name, content in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def zip_files(files: dict[str, bytes], folder: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(files.items()):
            archive.writestr(f"{folder}/{name}", content)
    return buffer.getvalue()


__all__ = ["CourseBundle", "read_folder", "read_zip", "version_files", "write_folder", "zip_files"]
