"""Every model module, imported once so the mapper registry and Alembic see them all."""
from .auth.models import AuthToken, ConsoleAccount, ConsoleSession, Role, StaffPost, User  # noqa: F401
from .categories.models import Category  # noqa: F401
from .console.models import AuditEntry  # noqa: F401
from .idempotency import IdempotencyKey  # noqa: F401
from .media.models import Media  # noqa: F401
from .notifications.models import Notification, SubscriptionQuota  # noqa: F401
from .open311.models import ApiKey  # noqa: F401
from .privacy.models import ConsentRecord, PersonalDataAccess  # noqa: F401
from .stats.models import ReportSnapshot, ReportSnapshotUnit  # noqa: F401
from .tickets.models import Ticket, TicketEvent, TicketRating, TicketSupport  # noqa: F401
from .topics.models import (  # noqa: F401
    CouncilMember,
    CouncilRule,
    CouncilSession,
    Follow,
    Opinion,
    Topic,
    TopicEvent,
)
from .units.models import Unit, UnitResponsible  # noqa: F401
from .votes.models import Ballot, RollEntry, Vote, VoteEvent, VoteOption, Voter, VoteRoll  # noqa: F401
from .wechat.models import SharedValue  # noqa: F401
