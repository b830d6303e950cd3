"""/public: no sign-in. The latest bulletin (两月一通报) and each unit's report card this month."""
from __future__ import annotations

from ..replica import replica_reads
from ..stats import operations as bulletins
from ..stats import queries as stats
from ..stats import rates
from ..stats.periods import month_of, single
from ..timeutil import utcnow
from .web import bp, public, render


def report_cards(now) -> tuple[list[dict], str]:
    """Every unit's card for this month to date over its subtree, ranked among its siblings:
    one aggregate over the month's tickets, rolled up the tree (stats.queries)."""
    period = single(month_of(now))
    tree = stats.unit_rows()
    totals = stats.rollup(tree, stats.aggregate(period, now, within=None))
    ranks = stats.ranks_among_siblings(tree, totals)
    children: dict[int | None, list] = {}
    for unit in tree:
        children.setdefault(unit.parent_id, []).append(unit)
    cards: list[dict] = []

    def visit(parent_id: int | None) -> None:  # each unit, then the units under it
        for unit in sorted(children.get(parent_id, []), key=lambda u: u.code):
            card = rates.numbers(totals[unit.id])
            card.update(unit=unit, rank=ranks.get(unit.id))
            cards.append(card)
            visit(unit.id)

    visit(None)
    return cards, period.label


@bp.get("/public")
@public
@replica_reads
def public_page():
    now = utcnow()
    latest = bulletins.list_bulletins(limit=1)["items"]
    bulletin = bulletins.bulletin_detail(latest[0]["id"]) if latest else None
    cards, label = report_cards(now)
    return render("console/public.html", bulletin=bulletin, cards=cards, period_label=label)
