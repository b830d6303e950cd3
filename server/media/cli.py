"""flask media migrate: the local photo store copied into the bucket (MEDIA_STORAGE=s3)."""
from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup

media_cli = AppGroup("media", help="照片存储")


@media_cli.command("migrate")
@click.option("--source", type=click.Path(exists=True, file_okay=False),
              help="The local photo directory; default MEDIA_ROOT.")
@click.option("--verbose", "-v", is_flag=True, help="A line per photo.")
def migrate_command(source, verbose):
    """Copy every photo under MEDIA_ROOT into the S3 bucket (S3_*), checking each after the
    upload; photos already there with the same bytes are skipped, so a run that stopped can
    simply be started again. Prints the counts; exits 1 when any photo failed."""
    from .operations import bucket, copy_to_bucket
    from .storage import LocalStorage

    try:
        target = bucket()
    except ValueError as err:
        click.echo(f"错误: {err}", err=True)
        sys.exit(2)
    local = LocalStorage(source or current_app.config["MEDIA_ROOT"])
    report = (lambda key, outcome: click.echo(f"{outcome} {key}", err=True)) if verbose else None
    counts = copy_to_bucket(local, target, report)
    click.echo(json.dumps(counts))
    if counts["failed"]:
        sys.exit(1)
