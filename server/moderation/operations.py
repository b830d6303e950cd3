"""The moderation queue: held reports in the moderator's units. Approving or hiding one is
a ticket operation (tickets.operations.approve / hide)."""
from __future__ import annotations

import sqlalchemy as sa

from ..auth.actor import Actor
from ..errors import Forbidden
from ..extensions import db
from ..paging import decode_cursor, page
from ..tickets.lifecycle import MODERATORS
from ..tickets.models import Ticket
from ..units.locator import subtree_ids
from ..units.scope import scope_paths


def queue(actor: Actor, limit: int = 20, cursor: str | None = None) -> dict:
    """A page of the held reports' ids, newest first (the view reads the tickets it shows)."""
    paths = scope_paths(actor, roles=MODERATORS)
    if not paths:
        raise Forbidden("只有工作人员可以审核", key="not_staff")
    query = sa.select(Ticket.id).where(Ticket.held.is_(True), Ticket.hidden.is_(False),
                                       Ticket.unit_id.in_(subtree_ids(paths)))
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(Ticket.id < after[0])
    ids = db.session.execute(query.order_by(Ticket.id.desc()).limit(limit + 1)).scalars().all()
    return page(ids, limit, lambda ticket_id: [ticket_id])
