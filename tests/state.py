"""Test fixtures that put a ticket (or a topic) straight into a state no quick API path reaches (held
by hand, backdated, escalated to a chosen unit). Product code writes a ticket only in its
operations; this helper is marked as one so that the guard lets a fixture through."""
from server.extensions import db
from server.tickets.lifecycle import MACHINE
from server.tickets.models import Ticket
from server.topics.models import Topic
from server.topics.rules import MACHINE as TOPICS


@MACHINE.operation
def force_ticket(ticket_id: int, **values) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id)
    for name, value in values.items():
        setattr(ticket, name, value)
    return ticket


@TOPICS.operation
def force_topic(topic_id: int, **values) -> Topic:
    topic = db.session.get(Topic, topic_id)
    for name, value in values.items():
        setattr(topic, name, value)
    return topic
