"""Refusals about wallets and relationships (docs/rules.md §4–§5)."""

from __future__ import annotations

from typing import ClassVar

from gongji.core.errors import GongjiError


class WalletAlreadyOpen(GongjiError):
    code: ClassVar[str] = "wallet_already_open"
    message_zh: ClassVar[str] = "医保钱包已开通"
    message_en: ClassVar[str] = "The wallet is already open"


class MobileNotVerified(GongjiError):
    code: ClassVar[str] = "mobile_not_verified"
    message_zh: ClassVar[str] = "开通医保钱包需要本人实名登记的手机号"
    message_en: ClassVar[str] = "Opening a wallet needs a mobile number registered to the person"


class PlaceOfUseChangeNotAllowed(GongjiError):
    code: ClassVar[str] = "place_of_use_change_not_allowed"
    message_zh: ClassVar[str] = "本地政策不允许变更医保钱包使用地"
    message_en: ClassVar[str] = "The local policy does not allow changing the place of use"


class WalletHasOpenGrants(GongjiError):
    code: ClassVar[str] = "wallet_has_open_grants"
    message_zh: ClassVar[str] = "还有未结束的共济额度，不能注销钱包"
    message_en: ClassVar[str] = "The wallet still has open grants"


class WalletStateInvalid(GongjiError):
    code: ClassVar[str] = "wallet_state_invalid"
    message_zh: ClassVar[str] = "钱包当前状态（{status}）不能办理此业务"
    message_en: ClassVar[str] = "Not possible while the wallet is {status}"


class ReasonRequired(GongjiError):
    code: ClassVar[str] = "reason_required"
    message_zh: ClassVar[str] = "请填写原因"
    message_en: ClassVar[str] = "A reason is required"


class RelativeNotFound(GongjiError):
    """Same answer for an unknown ID number and a name that does not match: nothing leaks."""

    code: ClassVar[str] = "relative_not_found"
    message_zh: ClassVar[str] = "未找到该亲属的参保信息，请核对身份证号和姓名"
    message_en: ClassVar[str] = "No insured person matches that ID number and name"


class RelationshipExists(GongjiError):
    code: ClassVar[str] = "relationship_exists"
    message_zh: ClassVar[str] = "与该亲属已有共济关系或待处理的申请"
    message_en: ClassVar[str] = "A relationship or a pending request with this relative exists"


class RelationshipStateInvalid(GongjiError):
    code: ClassVar[str] = "relationship_state_invalid"
    message_zh: ClassVar[str] = "共济关系当前状态（{status}）不能办理此业务"
    message_en: ClassVar[str] = "Not possible while the relationship is {status}"


class RelationshipWithSelf(GongjiError):
    code: ClassVar[str] = "relationship_with_self"
    message_zh: ClassVar[str] = "不能与本人建立共济关系"
    message_en: ClassVar[str] = "You cannot bind yourself"


class NotRelated(GongjiError):
    code: ClassVar[str] = "not_related"
    message_zh: ClassVar[str] = "代开通需要与对方有已生效的共济关系或登记的亲属关系"
    message_en: ClassVar[str] = "Opening for someone else needs a verified kinship with them"


class AuthorizationExists(GongjiError):
    code: ClassVar[str] = "authorization_exists"
    message_zh: ClassVar[str] = "已授权该亲属使用家庭共济"
    message_en: ClassVar[str] = "This relative is already authorized"


class AuthorizationOutOfScope(GongjiError):
    code: ClassVar[str] = "authorization_out_of_scope"
    message_zh: ClassVar[str] = "家庭共济授权仅限本省参保的亲属"
    message_en: ClassVar[str] = (
        "Authorizations are limited to relatives insured in the same province"
    )


class AuthorizationNotActive(GongjiError):
    code: ClassVar[str] = "authorization_not_active"
    message_zh: ClassVar[str] = "该授权不在生效状态"
    message_en: ClassVar[str] = "The authorization is not active"


class EnrolmentStateInvalid(GongjiError):
    code: ClassVar[str] = "enrolment_state_invalid"
    message_zh: ClassVar[str] = "参保状态（{status}）不能办理此业务"
    message_en: ClassVar[str] = "Not possible while the enrolment status is {status}"


class PersonDeceased(GongjiError):
    code: ClassVar[str] = "person_deceased"
    message_zh: ClassVar[str] = "该人员已登记死亡"
    message_en: ClassVar[str] = "The person is recorded as deceased"


class PersonNotDeceased(GongjiError):
    code: ClassVar[str] = "person_not_deceased"
    message_zh: ClassVar[str] = "尚未登记死亡，不能办理继承"
    message_en: ClassVar[str] = "Inheritance needs a recorded death"


class InheritanceAlreadyPaid(GongjiError):
    code: ClassVar[str] = "inheritance_already_paid"
    message_zh: ClassVar[str] = "个人账户余额已办理过继承支付"
    message_en: ClassVar[str] = "The inheritance has already been paid out"


class HeirsRequired(GongjiError):
    code: ClassVar[str] = "heirs_required"
    message_zh: ClassVar[str] = "请填写继承人和死亡证明编号"
    message_en: ClassVar[str] = "Heirs and a death certificate number are required"


class HeirSharesMismatch(GongjiError):
    code: ClassVar[str] = "heir_shares_mismatch"
    message_zh: ClassVar[str] = "继承人份额合计 {shares} 元，与应支付的账户余额 {balance} 元不符"
    message_en: ClassVar[str] = "The heirs' shares add up to {shares}, not the balance {balance}"


class SameRegion(GongjiError):
    code: ClassVar[str] = "move_to_same_region"
    message_zh: ClassVar[str] = "转入地与当前参保地相同"
    message_en: ClassVar[str] = "The new region is the current one"


class EnrolmentDateBeforeStart(GongjiError):
    code: ClassVar[str] = "enrolment_date_before_start"
    message_zh: ClassVar[str] = "日期 {on} 早于该参保记录的开始日期 {start_date}"
    message_en: ClassVar[str] = "{on} is before the enrolment's start, {start_date}"


class EnrolmentDateTooFar(GongjiError):
    code: ClassVar[str] = "enrolment_date_too_far"
    message_zh: ClassVar[str] = "日期 {on} 超出允许范围：最晚为 {latest}"
    message_en: ClassVar[str] = "{on} is too far ahead: {latest} at the latest"
