"""tickets: the report's photos on the ticket row

Every read of a ticket (one, a staff page, nearby, the map) showed the report's photos
from a second query joining events and media. The photos of a report never change once
it is filed, so they are written on the ticket row with the report; existing tickets are
filled from their report events here.

Revision ID: b1c2000000a1
Revises: a0000000merge
Create Date: 2026-12-01 00:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b1c2000000a1'
down_revision = 'a0000000merge'
branch_labels = None
depends_on = None

BATCH = 5_000


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_media', sa.JSON(), nullable=True))

    conn = op.get_bind()
    tickets = sa.table('tickets', sa.column('id', sa.Integer), sa.column('report_media', sa.JSON))
    events = sa.table('ticket_events', sa.column('id', sa.Integer), sa.column('ticket_id', sa.Integer),
                      sa.column('action', sa.String))
    media = sa.table('media', sa.column('id', sa.Integer), sa.column('key', sa.String), sa.column('thumb_key', sa.String),
                     sa.column('event_id', sa.Integer), sa.column('position', sa.Integer))
    rows = conn.execute(
        sa.select(events.c.ticket_id, media.c.id, media.c.key, media.c.thumb_key)
        .select_from(events.join(media, media.c.event_id == events.c.id))
        .where(events.c.action == 'report').order_by(events.c.ticket_id, media.c.position))
    photos: dict[int, list] = {}
    for ticket_id, media_id, key, thumb_key in rows:
        photos.setdefault(ticket_id, []).append({"id": media_id, "key": key, "thumb_key": thumb_key})
    update = tickets.update().where(tickets.c.id == sa.bindparam('tid')).values(report_media=sa.bindparam('media'))
    items = list(photos.items())
    for start in range(0, len(items), BATCH):
        conn.execute(update, [{"tid": tid, "media": media} for tid, media in items[start:start + BATCH]])


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('report_media')
