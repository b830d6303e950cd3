"""A published snapshot as an xlsx workbook for the office (openpyxl)."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..units.models import UNIT_KINDS
from . import rates
from .models import ReportSnapshot
from .operations import brief, ordered_rows, unit_entry

# (header, key in a unit entry, number format)
COLUMNS = [
    ("单位编码", "unit_code", None),
    ("单位名称", "unit_name", None),
    ("层级", "kind_label", None),
    ("上级单位", "parent_name", None),
    ("受理量", "received", "0"),
    ("响应率", "response_rate", "0.0%"),
    ("解决率", "resolution_rate", "0.0%"),
    ("按期办结率", "on_time_resolution_rate", "0.0%"),
    ("满意率", "satisfaction_rate", "0.0%"),
    ("已评价", "rated", "0"),
    ("未评价", "unrated", "0"),
    ("超时", "overdue", "0"),
    ("重办", "redo", "0"),
    ("平均响应时长（小时）", "avg_response_hours", "0.00"),
    ("响应时长中位数（小时）", "median_response_hours", "0.00"),
    ("平均办结时长（小时）", "avg_resolution_hours", "0.00"),
    ("办结时长中位数（小时）", "median_resolution_hours", "0.00"),
    ("综合得分", "score", "0.0000"),
    ("同级排名", "rank", "0"),
]


def workbook_bytes(snapshot: ReportSnapshot, unit_ids: set[int] | None = None) -> bytes:
    """The workbook of every unit in the snapshot, or of these units only (the office
    console: the units the reader's posts cover)."""
    info = brief(snapshot)
    wb = Workbook()
    ws = wb.active
    ws.title = "成绩单"
    wb.properties.title = snapshot.title
    ws.append([header for header, _, _ in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    names = {r.unit_id: r.unit_name for r in snapshot.rows}
    for row in ordered_rows(snapshot):
        if unit_ids is not None and row.unit_id not in unit_ids:
            continue
        entry = unit_entry(row, snapshot.min_tickets, snapshot.weights)
        entry.update(unit_code=row.unit_code, unit_name=row.unit_name,
                     kind_label=UNIT_KINDS.get(row.unit_kind, row.unit_kind),
                     parent_name=names.get(row.parent_id, ""))
        ws.append([entry[key] for _, key, _ in COLUMNS])
        for index, (_, _, fmt) in enumerate(COLUMNS, start=1):
            if fmt:
                ws.cell(row=ws.max_row, column=index).number_format = fmt
    for index, (header, _, _) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = max(10, len(header) * 2 + 2)
    ws.freeze_panes = "C2"

    notes = wb.create_sheet("指标说明")
    notes.append(["通报", snapshot.title])
    notes.append(["统计周期", f"{info['period_label']}（{info['period']}，北京时间）"])
    notes.append(["统计时点", snapshot.as_of.isoformat()])
    notes.append(["最低件数", snapshot.min_tickets])
    notes.append(["权重", "，".join(f"{k} {v}" for k, v in snapshot.weights.items())])
    for key, text in rates.DEFINITIONS.items():
        notes.append([key, text])
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 120

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def filename(snapshot: ReportSnapshot) -> str:
    return f"{snapshot.title}.xlsx"
