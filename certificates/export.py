"""A ZIP of many certificates, streamed: one PDF is drawn, written and sent at a time.

``zipfile`` can write to a stream that cannot seek (it then uses data
descriptors); the sink below only keeps the bytes written since the last
chunk, so memory stays at about one PDF whatever the number of certificates.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from lms import clock
from lms.exports import csv_writer


class _Sink(io.RawIOBase):
    """Write-only, unseekable: what ``zipfile`` writes waits here until drained."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


@dataclass(frozen=True)
class Entry:
    """One file of the archive, produced only when its turn comes."""

    name: str
    produce: Callable[[], bytes]


def stream_zip(entries: Iterable[Entry]) -> Iterator[bytes]:
    sink = _Sink()
    stamp = clock.now().astimezone(clock.LOCAL_ZONE).timetuple()[:6]
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry.name, date_time=stamp)
            info.external_attr = 0o644 << 16
            archive.writestr(info, entry.produce())
            chunk = sink.drain()
            if chunk:
                yield chunk
    tail = sink.drain()
    if tail:
        yield tail


def csv_bytes(header: list[str], rows: Iterable[list[str]]) -> bytes:
    """A small UTF-8 (with BOM, for spreadsheet programs) CSV index of the archive;
    names and titles that look like formulas are neutralised."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
