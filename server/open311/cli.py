"""flask open311 keys create|list|revoke."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..extensions import db
from ..timeutil import isoformat

open311_cli = AppGroup("open311", help="Open311 GeoReport v2")
keys_cli = AppGroup("keys", help="Open311 API keys")
open311_cli.add_command(keys_cli)


def _fail(message: str):
    db.session.rollback()
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@keys_cli.command("create")
@click.argument("name")
def create_command(name):
    """Create a key for NAME and print it (shown once; only its hash is stored)."""
    from .keys import create_key

    try:
        key, raw = create_key(name)
    except ValueError as err:
        _fail(str(err))
    db.session.commit()
    click.echo(f"created key {key.name!r} (integration user open311:{key.id}); store it now, it is not shown again:",
               err=True)
    click.echo(raw)


@keys_cli.command("list")
def list_command():
    """Every key: name, state, creation time; never the key itself."""
    from .keys import list_keys

    for key in list_keys():
        state = f"revoked {isoformat(key.revoked_at)}" if key.revoked_at else "active"
        click.echo(f"{key.name}\t{state}\tcreated {isoformat(key.created_at)}\tuser open311:{key.id}")


@keys_cli.command("revoke")
@click.argument("name")
def revoke_command(name):
    """Revoke the key named NAME: it is refused from the next request on."""
    from .keys import revoke_key

    try:
        key = revoke_key(name)
    except ValueError as err:
        _fail(str(err))
    db.session.commit()
    click.echo(f"revoked {key.name!r}")
