"""media: indexes on key and thumb_key

Serving a photo now asks who may see it (the report or note it belongs to), by the key in
its address.

Revision ID: e6f7000000d4
Revises: d5e6000000c3
Create Date: 2026-12-06 00:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e6f7000000d4'
down_revision = 'd5e6000000c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_key'), ['key'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_thumb_key'), ['thumb_key'], unique=False)


def downgrade():
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_thumb_key'))
        batch_op.drop_index(batch_op.f('ix_media_key'))
