"""The compiled rulebook: immutable, typed objects that everything else runs from.

The compiler (``compiler.py``) turns a checked source tree into these objects once; pages,
the API, the workflow engine and the time rules never look at raw dictionaries. All
classes are frozen, slotted dataclasses; mappings are read-only ``MappingProxyType``
views and sequences are tuples, so a compiled rulebook can be shared between threads and
swapped atomically when a new version is published.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .conditions import CompiledCondition, CompiledExpression


def frozen_map(items: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only mapping preserving order."""
    return MappingProxyType(dict(items or {}))


EMPTY: Mapping[str, Any] = frozen_map()


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a construct was declared: file, line, column (1-based) and its path."""

    file: str = "<rulebook>"
    line: int = 0
    column: int = 0
    path: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Text:
    """Text for people, per locale (``{'zh-CN': '客户', 'en': 'Customer'}``)."""

    translations: Mapping[str, str] = field(default_factory=frozen_map)

    def get(self, locale: str, fallback: str = "") -> str:
        """The text in ``locale``, else its language, else any locale, else ``fallback``."""
        t = self.translations
        if locale in t:
            return t[locale]
        lang = locale.split("-")[0].lower()
        for key, value in t.items():
            if key.split("-")[0].lower() == lang:
                return value
        return next(iter(t.values()), fallback)

    def __bool__(self) -> bool:
        return bool(self.translations)


@dataclass(frozen=True, slots=True)
class Duration:
    """A span of time: calendar (``3 days``) or working time (``2 working days``)."""

    amount: float
    unit: str  # minutes | hours | days | weeks | working_days | working_hours
    text: str = ""

    @property
    def working(self) -> bool:
        return self.unit.startswith("working_")

    def __str__(self) -> str:
        return self.text or f"{self.amount:g} {self.unit.replace('_', ' ')}"


# --- calendar and organisation -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Working days and hours, public holidays and adjusted working days (调休)."""

    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    working_hours: tuple[tuple[time, time], ...] = ((time(9), time(18)),)
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    extra_holidays: Mapping[date, Text] = field(default_factory=frozen_map)
    extra_working_days: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class Role:
    """A role users can hold; rights come from the entities' permissions."""

    name: str
    label: Text
    description: Text = Text()
    start_page: str | None = None
    manages: bool = False
    admin: bool = False
    source: SourceRef = SourceRef()


# --- fields ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a choice, multi-choice or tags field."""

    value: str
    label: Text
    color: str | None = None


@dataclass(frozen=True, slots=True)
class Default:
    """A field's default: a constant, or an expression evaluated at creation."""

    value: Any = None
    expression: CompiledExpression | None = None


@dataclass(frozen=True, slots=True)
class Field:
    """A field of an entity, with its type, constraints and conditions."""

    name: str
    type: str
    label: Text
    help: Text = Text()
    placeholder: Text = Text()
    required: bool = False
    required_when: CompiledCondition | None = None
    visible_when: CompiledCondition | None = None
    editable_when: CompiledCondition | None = None
    default: Default | None = None
    unique: bool = False
    unique_scope: tuple[str, ...] = ()
    index: bool = False
    read_only: bool = False
    append_only: bool = False
    sensitive: bool = False
    min: Any = None
    max: Any = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: Text = Text()
    choices: tuple[Choice, ...] = ()
    # type-specific options
    region: str | None = None  # phone
    currency: str | None = None  # money
    precision: int | None = None  # decimal / money
    scale: int | None = None  # decimal / money
    target: str | None = None  # reference: the entity referred to
    on_delete: str = "restrict"  # reference
    related_label: Text = Text()  # reference: the label of the related list on the target
    # reference: "readable" (default) — the user may link only records they may read;
    # "any" — any existing record (e.g. asking for access to it); its title stays hidden
    reference_scope: str = "readable"
    returns: str | None = None  # computed: the value type
    expression: CompiledExpression | None = None  # computed
    source: SourceRef = SourceRef()

    @property
    def value_type(self) -> str:
        """The type of the stored value (a computed field's ``returns``)."""
        return self.returns if self.type == "computed" and self.returns else self.type

    def choice(self, value: str) -> Choice | None:
        return next((c for c in self.choices if c.value == value), None)


# --- layout and views -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Section:
    """A titled group of fields on the form."""

    name: str
    label: Text
    fields: tuple[str, ...]
    columns: int = 1
    visible_when: CompiledCondition | None = None


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class ListView:
    """A named list of records: columns, filters offered, search fields, sort, base filter."""

    name: str
    label: Text
    columns: tuple[str, ...]
    filters: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    sort: tuple[SortKey, ...] = ()
    where: CompiledCondition | None = None
    default: bool = False
    page_size: int = 50


# --- rules on records --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValidationExample:
    """A small record that must pass or fail a validation rule; run by ``ruleform check``."""

    record: Mapping[str, Any]
    expect_pass: bool
    user_roles: tuple[str, ...] = ()
    source: SourceRef = SourceRef()


@dataclass(frozen=True, slots=True)
class ValidationRule:
    """A record-level rule: ``require`` fields ``when`` a condition holds, ``forbid`` or ``assert``."""

    name: str
    message: Text
    kind: str  # require | forbid | assert
    when: CompiledCondition | None = None
    require: tuple[str, ...] = ()
    condition: CompiledCondition | None = None  # the forbid / assert condition
    unless_roles: tuple[str, ...] = ()
    field: str | None = None  # where the message is shown
    examples: tuple[ValidationExample, ...] = ()
    source: SourceRef = SourceRef()


@dataclass(frozen=True, slots=True)
class DuplicateKey:
    field: str
    normalize: str = "text"  # text | phone | email | company_name | exact


@dataclass(frozen=True, slots=True)
class ConflictCase:
    """The record a ``conflict`` duplicate rule opens (R17) and how its fields are filled.

    ``fields`` maps a field of ``entity`` to a source: ``existing`` / ``new`` (the id of
    the record entered first / just entered), ``existing.<field>`` / ``new.<field>`` (one of
    their fields or system columns, e.g. ``existing.owner``), ``rule`` (the rule's name) or
    ``summary`` (the rule's label and the new record's title).
    """

    entity: str
    fields: Mapping[str, str]
    auto_transition: str | None = None  # taken by the system as soon as the case opens


@dataclass(frozen=True, slots=True)
class DuplicateRule:
    """Which fields identify the same real-world record and what a match does."""

    name: str
    label: Text
    match: tuple[DuplicateKey, ...]
    on_match: str  # allow | warn | block | conflict
    message: Text = Text()
    source: SourceRef = SourceRef()
    case: ConflictCase | None = None  # on_match: conflict — the case record it opens


# --- statuses, transitions, approvals -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Status:
    name: str
    label: Text
    category: str = "open"  # open | won | lost | closed
    final: bool = False
    pauses_sla: bool = False
    description: Text = Text()
    source: SourceRef = SourceRef()


@dataclass(frozen=True, slots=True)
class StatusMachine:
    """The statuses of an entity and where new records start."""

    initial: str
    states: Mapping[str, Status]


@dataclass(frozen=True, slots=True)
class Party:
    """Who: an approver, a recipient or an assignee, resolved at run time.

    ``kind`` is one of ``owner``, ``owner_manager``, ``creator``, ``role``, ``user_field``,
    ``users``, ``record_field`` (a customer's email / phone, for customer-facing rules).
    """

    kind: str
    role: str | None = None
    in_owner_department: bool = False
    field: str | None = None
    users: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ApprovalStep:
    name: str
    label: Text
    approvers: tuple[Party, ...]
    mode: str = "any"  # any | all | at_least
    at_least: int = 1
    when: CompiledCondition | None = None
    escalate_after: Duration | None = None
    escalate_to: tuple[Party, ...] = ()


@dataclass(frozen=True, slots=True)
class Approval:
    """Steps a transition must pass before its status change happens."""

    steps: tuple[ApprovalStep, ...]
    on_reject: str | None = None
    withdraw: str = "before_first_decision"  # never | before_first_decision | any_time
    locked_fields: tuple[str, ...] | None = None  # None: every field is locked
    allow: frozenset[str] = frozenset()  # relaxed segregation of duties


@dataclass(frozen=True, slots=True)
class Transition:
    """A declared move from some statuses to another."""

    name: str
    label: Text
    sources: tuple[str, ...]  # statuses it may start from ("*" expanded at compile time)
    target: str
    roles: tuple[str, ...] = ()  # empty: anyone with the transition permission
    when: CompiledCondition | None = None
    when_message: Text = Text()
    require: tuple[str, ...] = ()
    set: Mapping[str, CompiledExpression] = field(default_factory=frozen_map)
    confirm: Text = Text()
    approval: Approval | None = None
    exception: bool = False
    source: SourceRef = SourceRef()


# --- permissions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldAccess:
    """Which fields a role may read or write: all, a set, or all except a set."""

    mode: str = "all"  # all | only | except
    names: frozenset[str] = frozenset()

    def allows(self, field_name: str) -> bool:
        if self.mode == "all":
            return True
        if self.mode == "only":
            return field_name in self.names
        return field_name not in self.names


@dataclass(frozen=True, slots=True)
class RowScope:
    kind: str  # own | department | department_tree | all | where
    where: CompiledCondition | None = None


@dataclass(frozen=True, slots=True)
class Permission:
    """What one role may do on one entity."""

    role: str
    actions: frozenset[str]
    transitions: frozenset[str]
    scope: RowScope
    read: FieldAccess = FieldAccess()
    write: FieldAccess = FieldAccess()
    source: SourceRef = SourceRef()


# --- time rules -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """A templated message per locale (Jinja sandbox): subject and body."""

    subject: Text = Text()
    body: Text = Text()


@dataclass(frozen=True, slots=True)
class Action:
    """One thing a time rule or transition does: notify, task, reassign, escalate, set, webhook."""

    kind: str
    recipients: tuple[Party, ...] = ()
    channels: tuple[str, ...] = ("inbox",)
    message: Message = Message()
    due: Duration | None = None  # task
    pick: str = "least_loaded"  # reassign
    set: Mapping[str, CompiledExpression] = field(default_factory=frozen_map)
    target: str | None = None  # webhook target name


@dataclass(frozen=True, slots=True)
class SlaLevel:
    after: Duration
    actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True)
class Timing:
    """When a time rule fires. ``kind`` names which of the options below are set.

    after:     field + offset           occurrence ``<rule>:<field value>+<offset>``
    yearly:    field's anniversary      occurrence ``birthday:<year>``
    inactive:  since-field + duration, or no related record for a duration
    deadline:  SLA levels after entering a status, pausing in declared statuses
    schedule:  cron expression, optional top-N per scope
    threshold: related-record count per owner/department in a window vs a bound
    on:        an event (transition, entered status, approved, rejected)
    """

    kind: str
    field: str | None = None
    offset: Duration | None = None
    before: Duration | None = None
    since: str | None = None
    related: str | None = None
    duration: Duration | None = None
    entered: str | None = None
    levels: tuple[SlaLevel, ...] = ()
    pause_in: tuple[str, ...] = ()
    stop_in: tuple[str, ...] = ()
    cron: str | None = None
    working_days_only: bool = False  # cron ticks on the calendar's working days only (调休)
    top: int | None = None
    order_by: tuple[SortKey, ...] = ()
    per: str = "organisation"  # organisation | department | owner
    count_entity: str | None = None
    count_where: CompiledCondition | None = None
    window: Duration | None = None
    below: int | None = None
    above: int | None = None
    event: str | None = None  # transition | entered | approved | rejected
    event_name: str | None = None


@dataclass(frozen=True, slots=True)
class TimeRule:
    """A reminder, SLA, escalation or automated touch."""

    name: str
    entity: str
    label: Text
    timing: Timing
    actions: tuple[Action, ...]
    where: CompiledCondition | None = None
    description: Text = Text()
    calendar: str = "organisation"  # organisation | department | owner
    audience: str = "internal"  # internal | customers
    rollout: str = "active"  # draft | dry_run | canary | active | paused
    canary: tuple[str, ...] = ()
    cap_per_run: int | None = None
    cap_per_day: int | None = None
    late_policy: str = "fire"  # fire | skip_older_than | coalesce
    late_age: Duration | None = None
    source: SourceRef = SourceRef()


# --- entity and rulebook ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Relation:
    """A related list: records of ``entity`` whose ``field`` refers to this entity."""

    entity: str
    field: str
    label: Text


@dataclass(frozen=True, slots=True)
class Entity:
    """A kind of record: its fields, form, views, rules, statuses and permissions."""

    name: str
    label: Text
    plural: Text
    title_field: str
    fields: Mapping[str, Field]
    owner: bool = True
    department: bool = True
    audit_reads: bool = False
    icon: str | None = None
    sections: tuple[Section, ...] = ()
    views: Mapping[str, ListView] = field(default_factory=frozen_map)
    validations: tuple[ValidationRule, ...] = ()
    duplicates: tuple[DuplicateRule, ...] = ()
    statuses: StatusMachine | None = None
    transitions: Mapping[str, Transition] = field(default_factory=frozen_map)
    permissions: Mapping[str, Permission] = field(default_factory=frozen_map)
    time_rules: Mapping[str, TimeRule] = field(default_factory=frozen_map)
    related: tuple[Relation, ...] = ()
    source: SourceRef = SourceRef()

    @property
    def table_name(self) -> str:
        return f"e_{self.name}"

    def default_view(self) -> ListView | None:
        for view in self.views.values():
            if view.default:
                return view
        return next(iter(self.views.values()), None)


@dataclass(frozen=True, slots=True)
class Rulebook:
    """A compiled, checked rulebook."""

    language: str
    name: str
    version: str
    label: Text
    locales: tuple[str, ...]
    default_locale: str
    timezone: str
    calendar: WorkingCalendar
    department_calendars: Mapping[str, WorkingCalendar]
    roles: Mapping[str, Role]
    entities: Mapping[str, Entity]
    description: Text = Text()
    effective_from: date | None = None
    trial_until: date | None = None
    extends: str | None = None
    fingerprint: str = ""  # hash of the normalised source; equal rulebooks, equal hash

    def entity(self, name: str) -> Entity:
        return self.entities[name]

    def all_time_rules(self) -> list[TimeRule]:
        return [r for e in self.entities.values() for r in e.time_rules.values()]
