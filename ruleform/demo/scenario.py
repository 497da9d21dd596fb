"""The demo data set as a plan: which records, created by whom and when, and which
transitions each one went through — plain data, no database.

``build_scenario(seed, now)`` gives the same plan for the same seed (dates relative to
``now``'s day). Customers are spread over the last ten months and over their lifecycle
(待审核 → 潜在 → 意向 → 成交 / 流失); each customer's contacts, communications,
opportunities, contracts and tickets follow it in time, so every date tells one story: a
won customer has a won opportunity and a contract signed before the customer was marked
won (the guard of its ``win`` transition), communications come after the customer was
entered, and ``last_contact_at`` is the latest of them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .data import (
    CAMPAIGNS,
    CHANNEL_WORDS,
    COMPETITORS,
    FAIRS,
    LOST_REASONS,
    NEXT_STEPS,
    REACTIONS,
    TICKET_SUBJECTS,
    TOPICS,
    Company,
    Person,
    Vocabulary,
)

__all__ = ["Planned", "Step", "build_scenario", "OWNERS"]

TZ = ZoneInfo("Asia/Shanghai")

#: salesperson → number of customers they own
OWNERS = {"sales1": 120, "sales2": 100, "sales3": 80}

#: customer status → weight, age in days (min, max), communications (min, max), transitions
CUSTOMERS = {
    "pending_review": (12, (1, 20), (0, 1), []),
    "prospect": (28, (2, 300), (1, 2), ["submit_review"]),
    "interested": (25, (2, 300), (1, 5), ["submit_review", "qualify"]),
    "won": (22, (75, 300), (2, 6), ["submit_review", "qualify", "win"]),
    "lost": (13, (75, 300), (1, 2), ["submit_review", "lose"]),
}
#: customer status → how many opportunities (one is picked) and their outcomes
OPPORTUNITIES = {
    "prospect": ([0, 1], ["initial_contact"]),
    "interested": ([1, 1, 2], ["initial_contact", "proposal", "negotiation"]),
    "won": ([1, 1, 2], ["initial_contact", "proposal", "negotiation", "lost"]),
    "lost": ([0, 1], ["lost"]),
}
OPPORTUNITY_PATHS = {
    "initial_contact": [], "proposal": ["submit_proposal"], "lost": ["lose"],
    "negotiation": ["submit_proposal", "negotiate"], "won": ["submit_proposal", "negotiate", "win"],
}  # fmt: skip
SOURCES = {"trade_show": 18, "online": 16, "website": 14, "referral": 20, "cold_call": 14,
           "campaign": 12, "other": 6}  # fmt: skip
TICKET_STATUSES = {"received": 15, "in_progress": 22, "with_technical": 8,
                   "waiting_customer": 10, "resolved": 15, "closed": 30}  # fmt: skip
TICKET_PATHS = {
    "received": [],
    "in_progress": ["accept"],
    "with_technical": ["accept", "escalate_to_technical"],
    "waiting_customer": ["accept", "wait_for_customer"],
    "resolved": ["accept", "resolve"],
    "closed": ["accept", "resolve", "close_ticket"],
}
SCORES = ("company_type_score", "size_score", "brand_score", "demand_score",
          "industry_position_score", "market_share_score")  # fmt: skip


@dataclass
class Step:
    """A transition a record went through: when, by whom, with which values filled in."""

    transition: str
    at: datetime
    user: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Planned:
    """One record to create. Payload values that are ``Planned`` become their ids;
    ``"@username"`` becomes a user's id."""

    entity: str
    user: str
    created_at: datetime
    payload: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    id: int | None = None


def build_scenario(seed: int, now: datetime,
                   owners: dict[str, int] | None = None) -> list[Planned]:  # fmt: skip
    """Every demo record, in an order where references come first (``owners``: how many
    customers each salesperson gets; default ``OWNERS``)."""
    builder = _Builder(seed, now)
    for owner, count in (owners or OWNERS).items():
        for _ in range(count):
            builder.customer(owner)
    order = ["customer", "contact", "opportunity", "contract", "communication", "ticket"]
    return sorted(builder.records, key=lambda r: order.index(r.entity))


class _Builder:
    def __init__(self, seed: int, now: datetime):
        self.rng = random.Random(seed)
        self.words = Vocabulary(self.rng)
        self.now = now.astimezone(TZ)
        self.records: list[Planned] = []
        self.contract_no = 0

    # --- time ---------------------------------------------------------------------------

    def moments(self, start: datetime, count: int, end: datetime | None = None) -> list[datetime]:
        """``count`` sorted times between ``start`` and ``end`` (default: yesterday), moved
        into working hours where that keeps them between the two."""
        end = end or self.now - timedelta(days=1)
        span = max((end - start).total_seconds(), 3600.0)
        picks = sorted(start + timedelta(seconds=self.rng.random() * span) for _ in range(count))
        return sorted(max(start, min(self.office_hours(t), end)) for t in picks)

    def office_hours(self, moment: datetime) -> datetime:
        """The same day, at a time between 09:00 and 18:00 (always two draws, so the data
        set does not depend on the time of day the demo is started)."""
        hour, minute = self.rng.randint(9, 17), self.rng.randrange(60)
        local = moment.astimezone(TZ)
        return local if 9 <= local.hour < 18 else local.replace(hour=hour, minute=minute)

    def day(self, moment: datetime) -> str:
        return moment.astimezone(TZ).date().isoformat()

    def ago(self, **delta: float) -> datetime:
        return self.now - timedelta(**delta)

    # --- records ------------------------------------------------------------------------

    def add(self, entity: str, user: str, created_at: datetime, payload: dict[str, Any],
            steps: list[Step] | None = None) -> Planned:  # fmt: skip
        record = Planned(entity, user, created_at, payload, steps or [])
        self.records.append(record)
        return record

    def pick(self, weights: dict[str, Any]) -> str:
        names = list(weights)
        shares = [w[0] if isinstance(w, tuple) else w for w in weights.values()]
        return self.rng.choices(names, weights=shares)[0]

    def customer(self, owner: str) -> None:
        """A customer with everything that happened to it, in time order."""
        status = self.pick(CUSTOMERS)
        _weight, ages, comms, path = CUSTOMERS[status]
        age = self.rng.randint(*ages)
        created = self.office_hours(self.ago(days=age))
        company, person = self.words.company(), self.words.person()
        talks = self.moments(created + timedelta(hours=2), self.rng.randint(*comms),
                             self.ago(hours=3))  # fmt: skip
        customer = self.add("customer", owner, created,
                            self.customer_payload(company, person, created, talks))  # fmt: skip
        # milestones: reviewed, qualified, deal, …, lost, …, won
        times = self.moments(created + timedelta(hours=4), 6, created + timedelta(days=age * 0.9))
        contacts = [self.contact(customer, company, owner, created)
                    for _ in range(self.rng.choice([0, 1, 1, 2]))]  # fmt: skip
        signed = self.opportunities(customer, company, owner, status, times)
        customer.steps = self.customer_steps(path, owner, times, signed)
        for moment in talks:
            self.communication(customer, contacts, owner, moment)
        tickets = {"won": [0, 1, 1, 2], "interested": [0, 0, 1]}.get(status, [0])
        for _ in range(self.rng.choice(tickets)):
            self.ticket(customer, contacts, created)

    def customer_steps(self, path: list[str], owner: str, times: list[datetime],
                       signed: datetime | None) -> list[Step]:  # fmt: skip
        steps = []
        for name in path:
            if name == "submit_review":
                steps.append(Step(name, times[0], owner))
            elif name == "qualify":
                follow_up = self.now + timedelta(days=self.rng.randint(1, 30))
                steps.append(Step(name, times[1], owner, {"next_contact_on": self.day(follow_up)}))
            elif name == "lose":
                steps.append(Step(name, times[2], owner,
                                  {"lost_reason": self.rng.choice(LOST_REASONS)}))  # fmt: skip
            elif name == "win":
                assert signed is not None, "a won customer has a signed contract"
                steps.append(Step(name, max(times[5], signed + timedelta(hours=2)), owner))
        return steps

    def customer_payload(self, company: Company, person: Person, created: datetime,
                         talks: list[datetime]) -> dict[str, Any]:  # fmt: skip
        rng, words = self.rng, self.words
        source = self.pick(SOURCES)
        payload: dict[str, Any] = {
            "company_name": company.name, "short_name": company.short_name,
            "contact_name": person.name, "contact_department": words.department(),
            "job_title": words.title(), "mobile": words.mobile(),
            "email": words.email(person, company), "source": source,
            "industry": company.industry, "products_needed": company.products,
            "purchase_frequency": rng.choice(["high", "medium", "low", "never"]),
            "order_value_level": rng.choice(["high", "medium", "low"]),
            "last_contact_at": (talks[-1] if talks else created).isoformat(),
            **{name: words.score() for name in SCORES},
        }  # fmt: skip
        details = {"trade_show": FAIRS, "campaign": CAMPAIGNS}
        if source in details:
            payload["source_detail"] = rng.choice(details[source])
        if rng.random() < 0.4:
            payload["direct_phone"] = words.fixed_line(company)
        if rng.random() < 0.3:
            payload["wechat"] = f"{person.pinyin.replace('.', '_')}{rng.randint(10, 99)}"
        if rng.random() < 0.25:
            tags = ["key_account", "high_value", "repeat_buyer", "price_sensitive",
                    "service_focused"]  # fmt: skip
            payload["segments"] = rng.sample(tags, 2)
        if rng.random() < 0.3:
            payload["competition"] = f"同时接触{rng.choice(COMPETITORS)}"
        if rng.random() < 0.35:
            payload.update(self.consent(created))
        return payload

    def consent(self, created: datetime) -> dict[str, Any]:
        """R41: consent on the day the customer was entered, kept for three years."""
        given = created.astimezone(TZ).date()
        return {"consent_given": True, "consent_on": given.isoformat(),
                "consent_purposes": ["service", "marketing"][: self.rng.randint(1, 2)],
                "retention_until": date(given.year + 3, given.month, 1).isoformat()}  # fmt: skip

    def contact(self, customer: Planned, company: Company, owner: str,
                created: datetime) -> Planned:  # fmt: skip
        person, words = self.words.person(), self.words
        role = self.rng.choice(["decision_maker", "influencer", "user_side", "purchaser",
                                "gatekeeper"])  # fmt: skip
        payload = {"customer": customer, "full_name": person.name, "decision_role": role,
                   "department_name": words.department(), "job_title": words.title(),
                   "mobile": words.mobile(), "email": words.email(person, company)}  # fmt: skip
        when = created + timedelta(minutes=self.rng.randint(5, 600))
        return self.add("contact", owner, when, payload)

    def opportunities(self, customer: Planned, company: Company, owner: str, status: str,
                      times: list[datetime]) -> datetime | None:  # fmt: skip
        """The customer's opportunities; for a won customer, when its contract was signed."""
        if status not in OPPORTUNITIES:
            return None
        counts, outcomes = OPPORTUNITIES[status]
        signed = None
        for n in range(self.rng.choice(counts)):
            if status == "won" and n == 0:
                signed = self.won_deal(customer, company, owner, times)
            else:
                outcome = self.rng.choice(outcomes)
                self.opportunity(customer, company, owner, outcome, times[1], times[4])
        return signed

    def opportunity(self, customer: Planned, company: Company, owner: str, outcome: str,
                    start: datetime, end: datetime) -> Planned:  # fmt: skip
        closed = outcome in ("won", "lost")
        at = self.moments(start, 5, end if closed else None)
        amount = self.words.amount()
        closing = at[4] if closed else self.now + timedelta(days=self.rng.randint(10, 120))
        payload = {"opportunity_name": self.words.project(company), "customer": customer,
                   "amount": str(amount), "expected_close_date": self.day(closing),
                   "products": company.products}  # fmt: skip
        discount = amount * self.rng.randint(0, 8) // 100
        reason = self.rng.choice(["price", "product_fit", "competitor", "no_budget", "no_decision"])
        proposal = f"提供{company.products}整体方案，含安装调试与一年维保"
        fills = {
            "submit_proposal": {"proposal_summary": proposal},
            "win": {"actual_amount": str(amount - discount)},
            "lose": {"lost_reason": reason},
        }  # fmt: skip
        # proposal at[1], negotiation at[2], closed (won or lost) at[4]
        when = {"submit_proposal": at[1], "negotiate": at[2], "win": at[4], "lose": at[4]}
        steps = [Step(name, when[name], owner, fills.get(name, {}))
                 for name in OPPORTUNITY_PATHS[outcome]]  # fmt: skip
        return self.add("opportunity", owner, at[0], payload, steps)

    def won_deal(self, customer: Planned, company: Company, owner: str,
                 times: list[datetime]) -> datetime:  # fmt: skip
        """A won opportunity and its contract, signed before the customer is marked won."""
        deal = self.opportunity(customer, company, owner, "won", times[1], times[3])
        won = deal.steps[-1]
        self.contract_no += 1
        created = won.at + timedelta(hours=self.rng.randint(2, 30))
        signed = created + timedelta(days=self.rng.randint(1, 5))
        signed = max(min(signed, times[5] - timedelta(hours=1)), created + timedelta(minutes=30))
        start = signed.astimezone(TZ).date() + timedelta(days=self.rng.randint(0, 15))
        end = date(start.year + 1, start.month, 1) - timedelta(days=1)
        terms = self.rng.choice(["prepaid", "net_30", "net_60", "milestones"])
        payload = {"contract_no": f"HT{created.year}-{self.contract_no:04d}", "customer": customer,
                   "opportunity": deal, "amount": won.values["actual_amount"],
                   "invoice_title": company.name, "payment_terms": terms}  # fmt: skip
        dates = {"signed_on": self.day(signed), "start_on": start.isoformat(),
                 "end_on": end.isoformat()}  # fmt: skip
        self.add("contract", owner, created, payload, [Step("sign", signed, owner, dates)])
        return signed

    def communication(self, customer: Planned, contacts: list[Planned], owner: str,
                      happened: datetime) -> None:  # fmt: skip
        rng = self.rng
        channel = rng.choice(["phone", "phone", "wechat", "email", "meeting"])
        topic, how = rng.choice(TOPICS), CHANNEL_WORDS[channel]
        name = customer.payload["contact_name"]
        payload: dict[str, Any] = {
            "customer": customer, "channel": channel, "happened_at": happened.isoformat(),
            "subject": f"{how}：{topic}",
            "summary": f"与{name}{how}{topic}，客户{rng.choice(REACTIONS)}。",
            "next_step": rng.choice(NEXT_STEPS), "is_follow_up": rng.random() < 0.85,
        }  # fmt: skip
        if contacts and rng.random() < 0.4:
            payload["contact"] = rng.choice(contacts)
        late = rng.random() < 0.08  # R31: some logs are entered more than 24 hours late
        delay = timedelta(hours=rng.randint(25, 72) if late else rng.randint(1, 6))
        self.add("communication", owner, min(happened + delay, self.ago(minutes=5)), payload)

    def ticket(self, customer: Planned, contacts: list[Planned], since: datetime) -> None:
        rng = self.rng
        kind = rng.choice(["inquiry", "inquiry", "complaint", "after_sales", "after_sales",
                           "feedback", "suggestion"])  # fmt: skip
        created = self.moments(since + timedelta(days=3), 1, self.ago(hours=2))[0]
        fresh, settled = rng.choice(["received", "in_progress"]), self.pick(TICKET_STATUSES)
        status = fresh if self.now - created < timedelta(days=3) else settled
        priorities = ["normal", "high", "urgent"]  # R45: a complaint is never low
        if kind != "complaint":
            priorities = ["low", "normal", "normal", "high"]
        payload: dict[str, Any] = {
            "kind": kind, "subject": rng.choice(TICKET_SUBJECTS[kind]), "customer": customer,
            "channel": rng.choice(["phone", "wechat", "email", "web"]),
            "priority": rng.choice(priorities),
            "description": f"客户反馈：{rng.choice(TICKET_SUBJECTS[kind])}，请尽快处理并回复。",
            "key_issue": kind == "complaint" and rng.random() < 0.5,
        }  # fmt: skip
        if contacts:
            payload["contact"] = rng.choice(contacts)
        path = TICKET_PATHS[status]
        at = self.moments(created + timedelta(minutes=20), len(path), self.ago(hours=1))
        satisfied = rng.choice(["satisfied", "satisfied", "neutral"])
        fills = {"escalate_to_technical": {"technical_assignee": "@tech"},
                 "resolve": {"resolution": "已远程指导客户处理并电话回访确认"},
                 "close_ticket": {"customer_satisfied": satisfied}}  # fmt: skip
        steps = [Step(name, at[i], "service", fills.get(name, {})) for i, name in enumerate(path)]
        self.add("ticket", "service", created, payload, steps)
