"""idempotency_keys for every domain: a scope per kind of create, the created row's id

The key was the ticket's (ticket_id, a foreign key to tickets); any domain's create now
uses the same table under its own scope ("tickets.report" for the existing rows), and
result_id names the row it created in that domain's table.

Revision ID: d5e6000000c3
Revises: d4e5000000c3
Create Date: 2026-12-06 00:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5e6000000c3'
down_revision = 'd4e5000000c3'
branch_labels = None
depends_on = None


def upgrade():
    # The new unique key first: MySQL keeps an index leading with user_id for that foreign key.
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=40), nullable=False, server_default='tickets.report'))
        batch_op.create_unique_constraint('uq_idempotency_keys_user_id_scope_key', ['user_id', 'scope', 'key'])
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_constraint('uq_idempotency_keys_user_id_key', type_='unique')
        batch_op.drop_constraint('fk_idempotency_keys_ticket_id_tickets', type_='foreignkey')
    if op.get_bind().dialect.name == 'mysql':  # the index MySQL made for that foreign key stays behind it
        op.drop_index('fk_idempotency_keys_ticket_id_tickets', table_name='idempotency_keys')
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.alter_column('ticket_id', new_column_name='result_id', existing_type=sa.Integer(), existing_nullable=True)
        batch_op.alter_column('scope', server_default=None, existing_type=sa.String(length=40), existing_nullable=False)


def downgrade():
    op.execute("DELETE FROM idempotency_keys WHERE scope <> 'tickets.report'")
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_idempotency_keys_user_id_key', ['user_id', 'key'])
        batch_op.alter_column('result_id', new_column_name='ticket_id', existing_type=sa.Integer(), existing_nullable=True)
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_constraint('uq_idempotency_keys_user_id_scope_key', type_='unique')
        batch_op.drop_column('scope')
        batch_op.create_foreign_key('fk_idempotency_keys_ticket_id_tickets', 'tickets', ['ticket_id'], ['id'],
                                    ondelete='CASCADE')
