"""tickets: an index on (status, lat, lng) for nearby open reports

Nearby asks for open tickets in a small box. On (lat, lng) alone the database reads the
whole latitude band of the district, which grows with the years of closed history; on
(status, lat, lng) it reads only the open tickets in the band, whose number stays about
the same however much history lies behind them.

Revision ID: 9e7f00000001
Revises: 8a1c0e5c0f12
Create Date: 2026-11-23 00:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9e7f00000001'
down_revision = '8a1c0e5c0f12'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_status_lat_lng', ['status', 'lat', 'lng'], unique=False)


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_status_lat_lng')
