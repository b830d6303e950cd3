"""one head: open311, report cards, notifications and privacy, indexes

Revision ID: a0000000merge
Revises: 0311000000a1, 5a7500000001, 9e7f00000001
Create Date: 2026-11-23 00:16:07.301788

"""
from alembic import op
import sqlalchemy as sa

import server.timeutil


# revision identifiers, used by Alembic.
revision = 'a0000000merge'
down_revision = ('0311000000a1', '5a7500000001', '9e7f00000001')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
