"""The batches of the ingestion's first pass, kept for the second one in a temporary file, when
the file is read row by row (a CSV read by Arrow is parsed again instead; ingest/__init__.py).

Pass 1 reads the stored file (the csv module, openpyxl or ijson), fits each row to the header's
width, removes NUL characters and computes the rows' fingerprints; pass 2 needs exactly those
cells again once the column types are known. Reading them back from here costs a fraction of
parsing the file again. A batch is one record:

* the columns with few values as their 16-bit codes (datastore/bitmaps.py `Builder`), which pass 2
  turns into stored values by looking each code up, with no string to decode or convert again;
* the cells of the other columns, column after column, joined by NUL (which no cell holds any
  longer) and encoded as UTF-8: one `join` and one `split` a batch, in C;
* the rows' fingerprints as 64-bit integers.

The file is created in FILE_UPLOAD_TEMP_DIR (the system's temporary directory by default),
readable by its owner only and unlinked from the start, so it is gone when closed or when the
process ends. It takes about as much room as the file's text: for a CSV about its size, for an
XLSX file that of its unzipped cells, which can be several times the upload."""

from __future__ import annotations

import struct
import tempfile
from array import array
from collections.abc import Iterator, Mapping, Sequence
from itertools import chain

import numpy as np
from django.conf import settings

_HEADER = struct.Struct("<QQQ")  # bytes of text, rows, columns
CODES = np.dtype("<u2")
_SEP = "\x00"


class Spill:
    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(prefix="ventanilla-ingest-", dir=settings.FILE_UPLOAD_TEMP_DIR)

    def write(self, columns: Sequence[Sequence[str]], hashes: Sequence[int],
              coded: Mapping[int, np.ndarray] | None = None) -> None:
        """One batch: its columns of text without NUL, one fingerprint a row, and the codes of
        the columns to keep as codes (`coded`: position -> one code a row)."""
        coded = coded or {}
        rows = len(hashes)
        kinds = bytes(1 if i in coded else 0 for i in range(len(columns)))
        text = _SEP.join(chain.from_iterable(c for i, c in enumerate(columns) if i not in coded))
        data = text.encode("utf-8", "surrogatepass")
        self.file.write(_HEADER.pack(len(data), rows, len(columns)))
        self.file.write(kinds)
        for i in sorted(coded):
            self.file.write(coded[i].astype(CODES, copy=False).tobytes())
        self.file.write(data)
        self.file.write(np.asarray(hashes, dtype=np.int64).tobytes())

    def __iter__(self) -> Iterator[tuple[list[list[str] | np.ndarray], array]]:
        """The batches in the order they were written: (columns, fingerprints), each column its
        list of text or its array of codes."""
        self.file.flush()
        self.file.seek(0)
        read = self.file.read
        while header := read(_HEADER.size):
            size, rows, ncol = _HEADER.unpack(header)
            kinds = read(ncol)
            columns: list = [np.frombuffer(read(rows * CODES.itemsize), CODES) if k else None for k in kinds]
            texts = ncol - sum(kinds)
            cells = read(size).decode("utf-8", "surrogatepass").split(_SEP) if texts else []
            if len(cells) != texts * rows:  # a NUL in a cell would shift every later column
                raise ValueError("spilled cells do not match their batch")
            n = 0
            for i, k in enumerate(kinds):
                if not k:
                    columns[i] = cells[n * rows:(n + 1) * rows]
                    n += 1
            hashes = array("q")
            hashes.frombytes(read(8 * rows))
            yield columns, hashes

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
