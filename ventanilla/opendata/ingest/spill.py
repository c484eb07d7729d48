"""The batches of the ingestion's first pass, kept for the second one in a temporary file.

Pass 1 reads the stored file (the csv module, openpyxl or ijson), fits each row to the header's
width, removes NUL characters and computes the rows' fingerprints; pass 2 needs exactly those
cells again once the column types are known. Reading them back from here costs a fifth of parsing
the file again: a batch is one record, its cells column after column joined by NUL (which no cell
holds any longer) and encoded as UTF-8 — one `join` and one `split` a batch, in C — followed by
its fingerprints as 64-bit integers.

The file is created in FILE_UPLOAD_TEMP_DIR (the system's temporary directory by default),
readable by its owner only and unlinked from the start, so it is gone when closed or when the
process ends. It takes about as much room as the uploaded text."""

from __future__ import annotations

import struct
import tempfile
from array import array
from collections.abc import Iterator, Sequence
from itertools import chain

from django.conf import settings

_HEADER = struct.Struct("<QQQ")  # bytes of text, rows, columns
_SEP = "\x00"


class Spill:
    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(prefix="ventanilla-ingest-", dir=settings.FILE_UPLOAD_TEMP_DIR)

    def write(self, columns: Sequence[Sequence[str]], hashes: Sequence[int]) -> None:
        """One batch: its columns of text without NUL, and one fingerprint a row."""
        text = _SEP.join(chain.from_iterable(columns)).encode("utf-8", "surrogatepass")
        self.file.write(_HEADER.pack(len(text), len(hashes), len(columns)))
        self.file.write(text)
        self.file.write(array("q", hashes).tobytes())

    def __iter__(self) -> Iterator[tuple[list[list[str]], array]]:
        """The batches in the order they were written: (columns, fingerprints)."""
        self.file.flush()
        self.file.seek(0)
        read = self.file.read
        while header := read(_HEADER.size):
            size, rows, ncol = _HEADER.unpack(header)
            cells = read(size).decode("utf-8", "surrogatepass").split(_SEP)
            hashes = array("q")
            hashes.frombytes(read(8 * rows))
            yield [cells[k * rows:(k + 1) * rows] for k in range(ncol)], hashes

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
