"""A roll of households as an office keeps it: a CSV (UTF-8, with or without Excel's BOM, or
GB18030 as Chinese Excel saves it) or an xlsx workbook (its first sheet). The first row names
the columns: 户号 / household, and optionally 户主 / name."""
from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from ..errors import Invalid

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
HOUSEHOLD = ("户号", "household")
NAME = ("户主", "name")


def _rows_of(table: list[list]) -> list[dict]:
    if not table:
        raise Invalid("名册是空的", key="invalid_roll", errors={"problems": ["名册是空的"]})
    header = [str(cell or "").strip().lower() for cell in table[0]]
    try:
        household = next(i for i, h in enumerate(header) if h in HOUSEHOLD)
    except StopIteration:
        raise Invalid("第一行应有“户号”一列", key="invalid_roll", errors={"problems": ["第一行应有“户号”一列"]}) from None
    name = next((i for i, h in enumerate(header) if h in NAME), None)
    rows = []
    for line in table[1:]:
        cells = [str(c).strip() if c is not None else "" for c in line]
        if not any(cells):
            continue
        rows.append({"household": cells[household] if household < len(cells) else "",
                     "name": cells[name] if name is not None and name < len(cells) else ""})
    if len(rows) > MAX_ROWS:
        raise Invalid(f"名册最多 {MAX_ROWS} 行", key="invalid_roll", errors={"problems": [f"共 {len(rows)} 行"]})
    return rows


def read(data: bytes, filename: str) -> list[dict]:
    """The rows ({"household", "name"}) of an uploaded roll; Invalid when it cannot be read."""
    if len(data) > MAX_BYTES:
        raise Invalid("名册文件太大（最多 2 MB）", key="invalid_roll", errors={"problems": ["文件太大"]})
    if filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
            table = [list(row) for _, row in zip(range(MAX_ROWS + 2), sheet.iter_rows(values_only=True))]
        except Exception:  # noqa: BLE001  (any unreadable workbook is the same refusal)
            raise Invalid("无法读取这个 xlsx 文件", key="invalid_roll", errors={"problems": ["无法读取"]}) from None
        return _rows_of(table)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Invalid("CSV 文件应为 UTF-8 或 GB18030 编码", key="invalid_roll", errors={"problems": ["编码无法识别"]})
    if "\x00" in text:
        raise Invalid("CSV 文件含有无法保存的字符", key="invalid_roll", errors={"problems": ["含有 NUL"]})
    return _rows_of(list(csv.reader(io.StringIO(text))))
