"""A person's settings (docs/rules.md §15): whether SMS are sent, which kinds are not, the quiet
hours of their SMS, and the standing choice 就医时使用家庭共济 (§6.2). A person who never saved
any has the defaults; the settings row is written on the first save.

The standing choice is the person's own act: until they make it, the policy key
``mutual_aid_choice_default`` of their insured region stands for it (false as shipped, so shared
money pays nothing for a person who never chose). Making it is recorded in their history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from gongji.core.errors import GongjiError
from gongji.core.policy import Policy
from gongji.kernel.context import Actor, ActorKind, Context
from gongji.kernel.errors import Forbidden
from gongji.notify.domain.messages import NoticeKind
from gongji.notify.domain.quiet_hours import QuietHours, parse_clock
from gongji.notify.store import notify_repo
from gongji.notify.store.notify_repo import SettingsRow
from gongji.people.service import registry
from gongji.people.service.persons import governing_enrolment
from gongji.store.raw import Read
from gongji.store.records import EnrolmentRecord
from gongji.store.uow import UnitOfWork


class QuietHoursInvalid(GongjiError):
    code: ClassVar[str] = "quiet_hours_invalid"
    message_zh: ClassVar[str] = "免打扰时段应为“时:分”，如 22:00"
    message_en: ClassVar[str] = "Quiet hours are times HH:MM, e.g. 22:00"


class NoticeKindUnknown(GongjiError):
    code: ClassVar[str] = "notice_kind_unknown"
    message_zh: ClassVar[str] = "没有这种消息：{kind}"
    message_en: ClassVar[str] = "No such kind of message: {kind}"


@dataclass(frozen=True, slots=True)
class Preferences:
    sms_enabled: bool = True
    sms_muted: frozenset[NoticeKind] = field(default_factory=frozenset)
    quiet: QuietHours = field(default_factory=QuietHours)
    use_mutual_aid: bool | None = None
    """就医时使用家庭共济 as the person chose it; None: they never chose."""

    def wants_sms(self, kind: NoticeKind) -> bool:
        return self.sms_enabled and kind not in self.sms_muted

    def uses_mutual_aid(self, policy: Policy) -> bool:
        """Whether shared money pays the person's care when a bill does not say: their choice,
        or the policy of their insured region where they never made one."""
        if self.use_mutual_aid is None:
            return policy.mutual_aid_choice_default
        return self.use_mutual_aid


@dataclass(frozen=True, slots=True)
class MutualAidChoice:
    """The standing choice as a page shows it: whether it is on, and whether the person made
    it (or the policy stands for them)."""

    on: bool
    chosen: bool


def reads_of(psn_no: str) -> list[Read]:
    """The read :func:`of` makes, to make ahead with others (``uow.prefetch``)."""
    return [notify_repo.settings_read(psn_no)]


def of(uow: UnitOfWork, psn_no: str) -> Preferences:
    row = notify_repo.settings(uow.connection, psn_no)
    if row is None:
        return Preferences()
    muted = frozenset(NoticeKind(k) for k in row.sms_muted_kinds.split(",") if k in _KINDS)
    return Preferences(
        sms_enabled=row.sms_enabled,
        sms_muted=muted,
        quiet=QuietHours(parse_clock(row.quiet_start), parse_clock(row.quiet_end)),
        use_mutual_aid=row.use_mutual_aid,
    )


def save_notifications(
    ctx: Context,
    uow: UnitOfWork,
    actor: Actor,
    *,
    sms_enabled: bool,
    muted: Iterable[str],
    quiet_start: str,
    quiet_end: str,
) -> Preferences:
    psn_no = _person(actor)
    try:
        quiet = QuietHours(parse_clock(quiet_start), parse_clock(quiet_end))
    except ValueError:
        raise QuietHoursInvalid() from None
    kinds = frozenset(_kind(k) for k in muted)
    wanted = Preferences(sms_enabled, kinds, quiet, of(uow, psn_no).use_mutual_aid)
    _save(ctx, uow, psn_no, wanted)
    return wanted


def mutual_aid_choice(ctx: Context, uow: UnitOfWork, psn_no: str) -> MutualAidChoice:
    """The standing choice of ``psn_no`` today, the policy's default resolved."""
    saved = of(uow, psn_no)
    default_needed = saved.use_mutual_aid is None  # the enrolment is read only for the default
    return choice_of(ctx, saved, governing_enrolment(uow, psn_no) if default_needed else None)


def choice_of(
    ctx: Context, preferences: Preferences, enrolment: EnrolmentRecord | None
) -> MutualAidChoice:
    """:func:`mutual_aid_choice` from what the caller read: the person's preferences and, for
    the policy's default, their governing enrolment."""
    if preferences.use_mutual_aid is not None:
        return MutualAidChoice(on=preferences.use_mutual_aid, chosen=True)
    default = enrolment is not None and ctx.policy(enrolment.region).mutual_aid_choice_default
    return MutualAidChoice(on=default, chosen=False)


def set_use_mutual_aid(ctx: Context, uow: UnitOfWork, actor: Actor, on: bool) -> Preferences:
    """The person chooses whether shared money pays their care (docs/rules.md §6.2); the
    choice is an event of their history (``mutual_aid_on``, ``mutual_aid_off``), written only
    when it changes, so a repeated step records nothing new."""
    psn_no = _person(actor)
    current = of(uow, psn_no)
    if current.use_mutual_aid is on:
        return current
    wanted = Preferences(current.sms_enabled, current.sms_muted, current.quiet, on)
    _save(ctx, uow, psn_no, wanted)
    kind = "mutual_aid_on" if on else "mutual_aid_off"
    registry.record_event(uow.connection, psn_no, kind, actor.label, ctx.now_us())
    return wanted


_KINDS = frozenset(NoticeKind)


def _kind(text: str) -> NoticeKind:
    if text not in _KINDS:
        raise NoticeKindUnknown(kind=text[:40])
    return NoticeKind(text)


def _person(actor: Actor) -> str:
    if actor.kind is not ActorKind.PERSON:
        raise Forbidden()
    return actor.id


def _save(ctx: Context, uow: UnitOfWork, psn_no: str, wanted: Preferences) -> None:
    notify_repo.save_settings(
        uow.connection,
        SettingsRow(
            psn_no=psn_no,
            sms_enabled=wanted.sms_enabled,
            sms_muted_kinds=",".join(sorted(wanted.sms_muted)),
            quiet_start=wanted.quiet.start.strftime("%H:%M"),
            quiet_end=wanted.quiet.end.strftime("%H:%M"),
            use_mutual_aid=wanted.use_mutual_aid,
            updated_at_us=ctx.now_us(),
        ),
    )
