"""Extensions, created unbound; `create_app` binds them."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Blueprint
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .jsonio import StrictParser
from .openapi import Api
from .replica import RoutingSession

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# The session routes lag-tolerant reads to a read replica inside replica_read() (server/replica.py).
db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
migrate = Migrate()
api = Api()  # the error envelope as every operation's default response (openapi.py)
# Every view's JSON body read strictly (server/jsonio.py): one place for every endpoint.
Blueprint.ARGUMENTS_PARSER = StrictParser()
# Limits are declared on the views (server/ops/ratelimit.py); storage and switches come from config.
limiter = Limiter(key_func=get_remote_address, swallow_errors=True, in_memory_fallback_enabled=True)
