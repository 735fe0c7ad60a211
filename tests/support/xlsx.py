"""Reading back the XLSX files gongji writes, without a spreadsheet library: a workbook is a zip
of XML parts; a sheet's cells are numbers (``<v>``) or indexes into the shared strings."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
Cell = str | float


def _column(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref)
    assert letters is not None, ref
    number = 0
    for letter in letters.group(0):
        number = number * 26 + ord(letter) - ord("A") + 1
    return number - 1


def sheet_rows(workbook: bytes, sheet: int = 1) -> list[list[Cell | None]]:
    """Every row of a sheet as a list of its cells (``None`` where a cell is empty)."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as book:
        names = book.namelist()
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            root = ET.fromstring(book.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{NS}t")) for si in root]
        root = ET.fromstring(book.read(f"xl/worksheets/sheet{sheet}.xml"))
    rows: list[list[Cell | None]] = []
    for row in root.iter(f"{NS}row"):
        cells: list[Cell | None] = []
        for cell in row.iter(f"{NS}c"):
            where = _column(cell.get("r", "A"))
            cells += [None] * (where - len(cells))
            value = cell.find(f"{NS}v")
            text = None if value is None else value.text
            if text is None:
                cells.append(None)
            elif cell.get("t") == "s":
                cells.append(shared[int(text)])
            else:
                cells.append(float(text))
        rows.append(cells)
    return rows
