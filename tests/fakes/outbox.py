"""Filling the outbox with subscribe messages that the fake WeChat will accept (for worker
tests and the delivery benchmark). Runs inside an app context."""
import secrets

import sqlalchemy as sa

TEMPLATE = "ticket_accepted"
TEMPLATE_ID = "tmpl-accepted"


def fill(fake_wechat, count: int, users: int = 10) -> set[int]:
    """Queue `count` notifications spread over `users` new WeChat users who granted them;
    returns the ids of every notification now in the outbox."""
    from server.auth.models import User
    from server.extensions import db
    from server.notifications.models import Notification, SubscriptionQuota
    from server.notifications.outbox import notify

    people = []
    for i in range(users):
        openid = f"outbox-{secrets.token_hex(4)}"
        fake_wechat.add_user(openid)
        fake_wechat.grant_subscription(openid, TEMPLATE_ID, count)
        user = User(openid=openid, nickname=f"居民{i}")
        db.session.add(user)
        db.session.flush()
        db.session.add(SubscriptionQuota(user_id=user.id, template=TEMPLATE, remaining=count))
        people.append(user.id)
    for n in range(count):
        notify(people[n % users], TEMPLATE, title="您的反映已受理", body=f"第 {n} 条",
               data={"category": "路灯损坏", "status": "已受理", "unit": "花桥社区", "time": "2026-11-01T00:00:00+00:00"})
    db.session.commit()
    return set(db.session.execute(sa.select(Notification.id)).scalars())
