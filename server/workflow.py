"""The pieces every domain's state machine is built from.

A domain declares a `Machine`: its transition table (action, state) -> `Rule` (the state
it moves to, the roles that may, and an optional guard on the object). Its operations are
functions decorated with `@machine.operation`; inside one, `machine.step(...)` checks the
version the client saw (409 `conflict`), the table (409 `invalid_transition`) and the
actor's roles (403 `forbidden`), and `append_event` writes the history row. Nothing else
may write the guarded columns of the domain's model: an assignment outside an operation
raises `OutsideOperation` (and a bulk UPDATE through the session too).

History tables are declared with `append_only(Model)`: an UPDATE or DELETE of their rows
is refused, whether it comes from the ORM or from a Core statement.

Pure parts (Rule, the table check, allowed actions) need no Flask and no session; they
are tested without a database.
"""
from __future__ import annotations

import contextvars
import enum
import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from .errors import Conflict, Forbidden
from .timeutil import UTCDateTime, utcnow

SAME = "same"  # Rule.to: the action leaves the state as it is (it changes something else)
SYSTEM = "system"  # the role of the timers: never a person's

# The roles a person can hold, most specific first: an event records the first one the actor
# holds among those the rule allows. Domains add their own roles (reporter, assignee, ...)
# to the table; the staff roles come from the posts (auth.models.Role).
ROLE_ORDER = ("system", "reporter", "assignee", "member", "unit_head", "deputy", "cadre", "grid_worker", "admin",
              "resident")


class TransitionError(Exception):
    """The table has no rule for this action in this state (or the rule's guard refuses)."""

    status = 409


class NotAllowed(TransitionError):
    """The rule exists, but the actor holds none of its roles."""

    status = 403


class OutsideOperation(RuntimeError):
    """A guarded column was written outside its domain's operations."""


@dataclass(frozen=True)
class Rule:
    to: Any  # the new state, SAME, or None when the operation decides among `may_reach`
    roles: frozenset[str]
    # On the object: None when the action may go on, else why not (a Chinese sentence).
    guard: Callable[[Any], str | None] | None = None
    may_reach: frozenset = field(default_factory=frozenset)
    refusal_key: str = "invalid_transition"  # the error key when the guard refuses


def role_of(roles: Iterable[str], allowed: frozenset[str]) -> str:
    """The role an event records: the most specific of the actor's roles the rule allows."""
    held = set(roles) & allowed
    return next(r for r in (*ROLE_ORDER, *sorted(held)) if r in held)


class Machine:
    """A transition table with guards, its labels, and the operations that own its model."""

    def __init__(self, name: str, transitions: dict[tuple[str, Any], Rule], labels: dict):
        self.name = name
        self.transitions = transitions
        self.labels = labels
        self.actions = tuple(sorted({action for action, _ in transitions}))
        self._writing: contextvars.ContextVar[int] = contextvars.ContextVar(f"{name}_writing", default=0)
        by_state: dict[Any, list[tuple[str, frozenset[str]]]] = {}
        for (action, state), rule in sorted(transitions.items(), key=lambda item: item[0][0]):
            people = rule.roles - {SYSTEM}  # the timers' part of a rule is never offered to anyone
            if people:
                by_state.setdefault(state, []).append((action, people))
        self._by_state = by_state
        self._subscribers: dict[str, list[Callable]] = {}

    # --- pure ------------------------------------------------------------------------------

    def check(self, action: str, state, roles: Iterable[str], obj=None) -> tuple[Rule, str]:
        """The rule and the role the actor acts in, or TransitionError / NotAllowed."""
        rule = self.transitions.get((action, state))
        if rule is None:
            raise TransitionError(f"{action} is not possible from {_value(state)}")
        roles = set(roles)
        if roles.isdisjoint(rule.roles):
            raise NotAllowed(f"{action} from {_value(state)} needs one of {sorted(rule.roles)}")
        if rule.guard is not None and obj is not None:
            refusal = rule.guard(obj)
            if refusal:
                raise TransitionError(refusal)
        return rule, role_of(roles, rule.roles)

    def allowed_actions(self, state, roles: Iterable[str], obj=None) -> list[str]:
        """The actions these roles may take now, sorted by name. A rule with a guard counts
        only when the object is given and its guard agrees."""
        roles = set(roles)
        found = []
        for action, who in self._by_state.get(state, ()):
            if who.isdisjoint(roles):
                continue
            rule = self.transitions[(action, state)]
            if rule.guard is not None and (obj is None or rule.guard(obj)):
                continue
            found.append(action)
        return found

    # --- with a session ----------------------------------------------------------------------

    def step(self, obj, action: str, roles: Iterable[str], *, state_attr: str = "status",
             version: int | None = None) -> tuple[Rule, str]:
        """check(), with the client's version and the errors answered to clients."""
        if version is not None and version != obj.version:
            raise Conflict("内容已被他人修改，请刷新后重试", key="conflict")
        state = getattr(obj, state_attr)
        try:
            return self.check(action, state, roles, obj)
        except NotAllowed:
            raise Forbidden("没有权限进行此操作", key="forbidden") from None
        except TransitionError as err:
            rule = self.transitions.get((action, state))
            if rule is not None and rule.guard is not None:
                raise Conflict(str(err), key=rule.refusal_key) from None
            label = self.labels.get(state, _value(state))
            raise Conflict(f"当前状态（{label}）不能进行此操作", key="invalid_transition") from None

    def operation(self, fn: Callable) -> Callable:
        """Mark a function as one of this machine's operations: inside it (and what it
        calls) the guarded columns may be written."""

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            token = self._writing.set(self._writing.get() + 1)
            try:
                return fn(*args, **kwargs)
            finally:
                self._writing.reset(token)

        wrapper.machine = self  # type: ignore[attr-defined]
        return wrapper

    def subscribe(self, action: str, fn: Callable) -> None:
        """Another domain hears of this machine's action (a ticket proposed for deliberation
        becomes a topic) without this domain importing it."""
        self._subscribers.setdefault(action, []).append(fn)

    def publish(self, action: str, obj, actor, **data) -> None:
        """Called by an operation after its change: each subscriber runs in the same
        transaction (a failure undoes the whole request)."""
        for fn in self._subscribers.get(action, ()):
            fn(obj, actor, **data)

    @property
    def writing(self) -> bool:
        return self._writing.get() > 0

    def guard_columns(self, model, exempt: Iterable[str] = ()) -> None:
        """Refuse writes to the model's columns and relationships outside this machine's
        operations: attribute assignments, and bulk UPDATE/DELETE through a session."""
        exempt = set(exempt)
        mapper = sa.inspect(model)
        for attr in [*mapper.column_attrs, *mapper.relationships]:
            if attr.key in exempt:
                continue
            event.listen(getattr(model, attr.key), "set", self._refuse_outside(model, attr.key))
        _GUARDED_TABLES[model.__table__.name] = self

    def _refuse_outside(self, model, key: str):
        def listener(target, value, _oldvalue, _initiator):
            if not self.writing:
                raise OutsideOperation(f"{model.__name__}.{key} is written only by the {self.name} operations")
            return value

        return listener


def _value(state) -> str:
    return state.value if isinstance(state, enum.Enum) else str(state)


def flush() -> None:
    """Flush; a versioned UPDATE that lost to another writer is a 409."""
    from .extensions import db

    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("内容已被他人修改，请刷新后重试", key="conflict") from None


# --- history tables ------------------------------------------------------------------------

_APPEND_ONLY: set[str] = set()
_GUARDED_TABLES: dict[str, Machine] = {}


class AppendOnlyViolation(RuntimeError):
    pass


def append_only(model):
    """Class decorator: the model's rows are inserted, never updated or deleted."""

    def refuse(mapper, connection, target):
        raise AppendOnlyViolation(f"{model.__tablename__} is append-only")

    event.listen(model, "before_update", refuse)
    event.listen(model, "before_delete", refuse)
    _APPEND_ONLY.add(model.__tablename__)
    return model


def _target_table(statement) -> str | None:
    table = getattr(statement, "table", None)
    return getattr(table, "name", None)


@compiles(sa.sql.dml.Update)
@compiles(sa.sql.dml.Delete)
def _refuse_core_changes(element, compiler, **kw):
    """An UPDATE or DELETE of a history table, from the ORM or Core, is refused when it is
    compiled. A statement refused never enters SQLAlchemy's compiled cache, and one allowed is
    checked once, when first compiled: no cost per execution (an engine-wide listener cost
    about a hundred calls a request). Plain SQL text is not seen: the tests' clean slate
    empties tables that way, and no product code writes SQL text for a history table."""
    if _target_table(element) in _APPEND_ONLY:
        raise AppendOnlyViolation(f"{_target_table(element)} is append-only")
    visit = compiler.visit_update if isinstance(element, sa.sql.dml.Update) else compiler.visit_delete
    return visit(element, **kw)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_writes_outside(state):
    """A bulk UPDATE/DELETE of a guarded model through a session, outside its operations."""
    if not (state.is_update or state.is_delete):
        return
    machine = _GUARDED_TABLES.get(_target_table(state.statement) or "")
    if machine is not None and not machine.writing:
        raise OutsideOperation(f"{_target_table(state.statement)} is changed only by the {machine.name} operations")


# --- events ------------------------------------------------------------------------------


class EventColumns:
    """The columns every history table has beside its id, its subject and its states: who
    acted (in which role), the note, whether the public sees it, what it recorded, when."""

    action: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    public: Mapped[bool] = mapped_column(default=True)
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

def append_event(event_model, subject_column: str, subject, action: str, from_state, actor, role: str, *,
                 to_state=None, note: str = "", public: bool = True, data: dict | None = None,
                 state_attr: str = "status"):
    """The one event writer: a history row for `subject` (flushed first, so it has its id
    and its change is written before its history). Returns the new row's id."""
    from .extensions import db

    flush()
    values = {subject_column: subject.id, "action": action, "from_status": from_state,
              "to_status": to_state if to_state is not None else getattr(subject, state_attr),
              "actor_id": getattr(actor, "id", None), "actor_role": role, "note": note or "", "public": public,
              "data": data or {}, "created_at": utcnow()}
    key = db.session.connection().execute(event_model.__table__.insert(), values).inserted_primary_key
    assert key is not None
    return key[0]
