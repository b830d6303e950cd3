"""flask reports monthly | bulletin | export: the office's report-card commands."""
from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from ..errors import DomainError
from ..extensions import db

reports_cli = AppGroup("reports", help="成绩单：月度督查与两月通报")


def _fail(err: DomainError):
    db.session.rollback()
    click.echo(f"错误 ({err.key}): {err.detail}", err=True)
    sys.exit(1)


@reports_cli.command("monthly")
@click.option("--month", help="YYYY-MM (Asia/Shanghai); default: last month")
def monthly_command(month):
    """一月一督查: freeze every unit's report card for the month and notify unit heads."""
    from .operations import monthly

    try:
        snapshot, created, notified = monthly(month)
    except DomainError as err:
        _fail(err)
    db.session.commit()
    click.echo(json.dumps({"snapshot": snapshot.id, "period": snapshot.period, "created": created,
                           "units": len(snapshot.rows), "notified": notified}, ensure_ascii=False))


@reports_cli.command("bulletin")
@click.option("--months", required=True, help="YYYY-MM..YYYY-MM, e.g. 2026-09..2026-10")
def bulletin_command(months):
    """两月一通报: publish the bulletin every resident can read."""
    from .operations import bulletin

    try:
        snapshot, created = bulletin(months)
    except DomainError as err:
        _fail(err)
    db.session.commit()
    click.echo(json.dumps({"bulletin": snapshot.id, "title": snapshot.title, "period": snapshot.period,
                           "created": created, "units": len(snapshot.rows)}, ensure_ascii=False))


@reports_cli.command("export")
@click.argument("snapshot_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="default: the title .xlsx")
def export_command(snapshot_id, output):
    """Write a published snapshot (monthly or bulletin) as an xlsx workbook."""
    from .export import filename, workbook_bytes
    from .operations import get_snapshot

    try:
        snapshot = get_snapshot(snapshot_id, kind=None)
    except DomainError as err:
        _fail(err)
    path = output or filename(snapshot)
    with open(path, "wb") as fh:
        fh.write(workbook_bytes(snapshot))
    click.echo(path)
