"""flask commands: seed-demo, units import, staff grant/revoke."""
from __future__ import annotations

import json
import sys

import click
from flask import Flask
from flask.cli import AppGroup

from .errors import DomainError
from .extensions import db


def _fail(err: DomainError):
    db.session.rollback()
    click.echo(f"错误 ({err.key}): {err.detail}", err=True)
    for problem in err.errors.get("problems", []):
        click.echo(f"  - {problem}", err=True)
    sys.exit(1)


units_cli = AppGroup("units", help="治理单位")
staff_cli = AppGroup("staff", help="工作人员岗位")


@units_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_units_command(path):
    """Load a GeoJSON FeatureCollection of units (all or nothing)."""
    from .units.operations import import_units

    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    try:
        units = import_units(text)
    except DomainError as err:
        _fail(err)
    db.session.commit()
    click.echo(f"imported {len(units)} units")


@staff_cli.command("grant")
@click.argument("openid")
@click.argument("unit_code")
@click.argument("role")
def grant_command(openid, unit_code, role):
    from .auth.operations import grant_post

    try:
        post = grant_post(openid, unit_code, role)
    except DomainError as err:
        _fail(err)
    db.session.commit()
    click.echo(f"granted {post.role.value} of {unit_code} to {openid}")


@staff_cli.command("revoke")
@click.argument("openid")
@click.argument("unit_code")
@click.argument("role")
def revoke_command(openid, unit_code, role):
    from .auth.operations import revoke_post

    try:
        removed = revoke_post(openid, unit_code, role)
    except DomainError as err:
        _fail(err)
    db.session.commit()
    click.echo(("revoked" if removed else "no such post:") + f" {role} of {unit_code} from {openid}")


@click.command("console-user")
@click.argument("openid")
@click.option("--username", required=True, help="the name to sign in with")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="at least 10 characters (asked for when not given)")
@click.option("--new-totp", is_flag=True, help="a new TOTP secret even if the account has one")
def console_user_command(openid, username, password, new_totp):
    """Give a staff member (by openid) an office console sign-in, or change it; prints the
    TOTP provisioning URI to scan into an authenticator app. Their sessions are revoked."""
    import sqlalchemy as sa

    from .auth.console import provisioning_uri, set_credentials
    from .auth.models import User

    user = db.session.execute(sa.select(User).where(User.openid == openid)).scalar_one_or_none()
    if user is None:
        click.echo(f"错误 (user_not_found): 没有 openid 为 {openid} 的用户", err=True)
        sys.exit(1)
    if not user.posts:
        click.echo("警告：该用户没有工作岗位，登录后无法使用办公台（flask staff grant）", err=True)
    try:
        account, _ = set_credentials(user, username, password, new_totp=new_totp)
    except DomainError as err:
        _fail(err)
    db.session.commit()
    click.echo(f"console user {account.username} set for {openid}")
    click.echo(provisioning_uri(account))


@click.command("seed-demo")
def seed_demo_command():
    """Create or refresh the demo district, its categories and dev staff."""
    from .demo import seed_demo

    counts = seed_demo()
    db.session.commit()
    click.echo(json.dumps(counts, ensure_ascii=False))


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def worker_command(once):
    """Deliver the notification outbox."""
    from .notifications.worker import run

    run(once=once)


def register_cli(app: Flask) -> None:
    app.cli.add_command(units_cli)
    app.cli.add_command(staff_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(console_user_command)
    app.cli.add_command(tickets_cli)
    from .stats.cli import reports_cli

    app.cli.add_command(reports_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(timers_command)

    from .open311.cli import open311_cli

    app.cli.add_command(open311_cli)
    from .media.cli import media_cli

    app.cli.add_command(media_cli)


tickets_cli = AppGroup("tickets", help="问题")


@tickets_cli.command("sweep")
def sweep_command():
    """Run the ticket timers once: escalate the overdue (督办), remind, close the unrated, erase expired links."""
    from .tickets.timers import sweep

    counts = sweep()
    db.session.commit()
    click.echo(json.dumps(counts, ensure_ascii=False))


def _sweeps():
    """Every domain's timers, in order: tickets (督办, reminders, unrated, retention), votes
    (open when due, remind a day ahead, close and tally), photos (unused uploads)."""
    from .media.operations import sweep as media
    from .tickets.timers import sweep as tickets
    from .votes.operations import sweep as votes

    return (tickets, votes, media)


@click.command("timers")
@click.option("--once", is_flag=True, help="Run every timer once, then exit (the systemd timer's way).")
def timers_command(once):
    """Run every domain's timers every SWEEP_INTERVAL_SECONDS until stopped (Ctrl-C, SIGTERM)."""
    import logging
    import signal
    import threading

    from flask import current_app

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    log = logging.getLogger("gongzhi.timers")
    while not stop.is_set():
        counts: dict = {}
        for sweep in _sweeps():
            try:
                counts.update(sweep())
                db.session.commit()
            except Exception:  # noqa: BLE001  (a failed timer is logged; the others and the next round go on)
                db.session.rollback()
                log.exception("%s failed", sweep.__module__)
        if once:
            click.echo(json.dumps(counts, ensure_ascii=False))
            return
        if any(counts.values()):
            log.info("timers %s", counts)
        stop.wait(current_app.config["SWEEP_INTERVAL_SECONDS"])
