"""Chinese by default, English on request: the language of a page and the words for codes.

Templates carry both languages inline (``t("我的医保钱包", "My wallet")``), so a reader of a
template sees the Chinese the user sees; only the words for stored codes (states, event kinds,
kinship, policy keys) live here, because Python code and several templates share them.
``?lang=en`` (or ``zh``) on any page switches and is remembered in a cookie.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, Literal

from starlette.requests import Request

from gongji.people.domain.kinship import Kinship

Lang = Literal["zh", "en"]
LANG_COOKIE: Final = "gongji_lang"
Words = Mapping[str, tuple[str, str]]


def language(request: Request) -> Lang:
    """The query's choice, else the remembered one, else Chinese."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return "en" if asked == "en" else "zh"


def asked_language(request: Request) -> Lang | None:
    """The language named in the query, to be remembered; None when the query names none."""
    asked = request.query_params.get("lang")
    if asked == "en":
        return "en"
    return "zh" if asked == "zh" else None


def chooser(lang: Lang) -> Callable[[str, str], str]:
    """``t(zh, en)`` for templates: the text in the page's language."""

    def t(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    return t


def word(words: Words, key: str | None, lang: Lang) -> str:
    """The word for a stored code; an unknown code is shown as it is rather than hidden."""
    if key is None:
        return ""
    pair = words.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]


KINSHIP: Final[Words] = {
    kind.value: (kind.label_zh, kind.value.replace("_", " ")) for kind in Kinship
}

RELATIONSHIP_STATUS: Final[Words] = {
    "proposed": ("等待对方确认", "waiting for confirmation"),
    "pending_review": ("等待经办机构核验", "waiting for a bureau review"),
    "active": ("已生效", "active"),
    "rejected": ("未通过", "rejected"),
    "dissolved": ("已解除", "dissolved"),
    "ended": ("已终止", "ended"),
}

GRANT_STATE: Final[Words] = {
    "offered": ("等待接收", "waiting to be accepted"),
    "held": ("待审核", "held for a risk review"),
    "active": ("可使用", "in use"),
    "rejected": ("已拒收", "rejected"),
    "expired": ("已过期退回", "expired, returned"),
    "closed": ("已结束", "closed"),
}

WALLET_STATUS: Final[Words] = {
    "open": ("已开通", "open"),
    "frozen": ("已冻结", "frozen"),
    "closed": ("已注销", "closed"),
}

AUTHORIZATION_STATUS: Final[Words] = {
    "active": ("生效中", "active"),
    "revoked": ("已取消", "revoked"),
    "ended": ("已终止", "ended"),
}

INSUTYPE: Final[Words] = {
    "310": ("职工基本医疗保险", "employee medical insurance"),
    "390": ("城乡居民基本医疗保险", "resident medical insurance"),
}

EVENT: Final[Words] = {
    "wallet_opened": ("开通医保钱包", "wallet opened"),
    "wallet_place_changed": ("变更使用地", "place of use changed"),
    "wallet_frozen": ("钱包被冻结", "wallet frozen"),
    "wallet_unfrozen": ("钱包解除冻结", "wallet unfrozen"),
    "wallet_closed": ("注销医保钱包", "wallet closed"),
    "relationship_proposed": ("申请共济关系", "relationship proposed"),
    "relationship_confirmed": ("确认共济关系", "relationship confirmed"),
    "relationship_rejected": ("拒绝共济关系", "relationship rejected"),
    "relationship_reviewed": ("经办机构核验亲属关系", "kinship reviewed"),
    "relationship_ended": ("共济关系结束", "relationship ended"),
    "grant_offered": ("发起共济", "grant offered"),
    "grant_held": ("发起共济，待风险审核", "grant offered, held for a risk review"),
    "grant_accepted": ("接收共济", "grant accepted"),
    "grant_rejected": ("拒收共济", "grant rejected"),
    "grant_revoked": ("收回共济额度", "grant revoked"),
    "grant_returned": ("退回共济额度", "grant returned"),
    "grant_expired": ("共济过期退回", "grant expired"),
    "grant_closed": ("共济结束", "grant closed"),
    "authorization_bound": ("家庭共济授权", "authorization bound"),
    "authorization_revoked": ("取消家庭共济授权", "authorization revoked"),
    "payment_password_set": ("设置支付密码", "payment password set"),
    "payment_password_reset": ("重置支付密码", "payment password reset"),
    "mutual_aid_on": ("开启就医时使用家庭共济", "chose family mutual aid for care"),
    "mutual_aid_off": ("关闭就医时使用家庭共济", "stopped family mutual aid for care"),
    "guardian_consent_granted": ("授权亲属代为出示", "family access granted"),
    "guardian_consent_ended": ("代为出示授权结束", "family access ended"),
    "guardian_voucher_shown": ("亲属代为出示电子凭证", "e-voucher shown by a relative"),
    "guardian_records_viewed": ("亲属查看了看病买药记录", "records read by a relative"),
    "enrolment_suspended": ("医保暂停", "insurance suspended"),
    "enrolment_normal": ("医保恢复", "insurance resumed"),
    "enrolment_terminated": ("医保终止", "insurance terminated"),
    "moved": ("转移接续", "moved to another area"),
    "death_recorded": ("登记死亡", "death recorded"),
    "inheritance_paid": ("继承支付", "inheritance paid"),
    "settled": ("医保结算", "settled at an institution"),
    "settlement_reversed": ("结算已撤销", "settlement reversed"),
    "shared_money_spent": ("亲属使用了共济资金", "a relative spent shared money"),
    "premium_paid": ("缴纳保费", "premium paid"),
    "premium_paid_for_me": ("亲属为我代缴保费", "a relative paid my premium"),
}

DONE: Final[Words] = {
    "opened": ("医保钱包已开通", "Your wallet is open"),
    "place": ("使用地已变更", "The place of use has changed"),
    "closed": ("医保钱包已注销", "Your wallet is closed"),
    "proposed": ("申请已发出，请等待对方确认", "Sent; the relative will be asked to confirm"),
    "confirmed": ("已确认共济关系", "Relationship confirmed"),
    "rejected": ("已拒绝", "Rejected"),
    "dissolved": ("共济关系已解除", "Relationship dissolved"),
    "offered": ("已发起共济，等待对方接收", "Grant offered; waiting for the relative"),
    "accepted": ("已接收共济额度", "Grant accepted"),
    "accepted_mutual_aid_on": (
        "已接收共济额度；就医时将使用家庭共济",
        "Grant accepted; family mutual aid will pay for your care",
    ),
    "declined": ("已拒收，额度已退回对方", "Grant rejected; the money went back"),
    "bound": ("已授权亲属使用家庭共济", "Authorization made"),
    "revoked": ("已取消授权", "Authorization ended"),
    "frozen": ("钱包已冻结", "Wallet frozen"),
    "unfrozen": ("钱包已解除冻结", "Wallet unfrozen"),
    "reviewed": ("审核结果已保存", "Review saved"),
    "recorded": ("已办理", "Recorded"),
    "settled": ("结算成功", "Settled"),
    "reversed": ("已撤销结算", "Settlement reversed"),
    "cleared": ("清算完成，结果已保存", "Month cleared; the result is stored"),
    "notify_saved": ("消息设置已保存", "Message settings saved"),
    "mutual_aid_on": ("就医时将使用家庭共济", "Family mutual aid will pay for your care"),
    "mutual_aid_off": ("就医时不再使用家庭共济", "Family mutual aid will not pay for your care"),
    "payment_password": ("支付密码已设置", "Payment password set"),
    "payment_password_reset": ("支付密码已重置", "Payment password reset"),
    "reset_code": (
        "验证码已发送至您登记的手机，5 分钟内有效",
        "A code was sent to your registered mobile; it is valid for 5 minutes",
    ),
    "guardian_granted": ("已授权亲属代为出示", "Family access granted"),
    "premium_paid": ("缴费成功", "Premium paid"),
    "guardian_revoked": ("已撤销代为出示授权", "Family access ended"),
    "kinship_withdrawn": (
        "亲属关系已撤销，共济关系已终止",
        "Kinship withdrawn; the relationship ended",
    ),
    "grant_released": (
        "已放行，该笔共济已发给接收人",
        "Released: the recipient has the offer now",
    ),
    "grant_refused": (
        "已不予放行，资金已退回共济人",
        "Rejected: the money went back to the contributor",
    ),
}

POLICY_KEY: Final[Words] = {
    "grants_per_day_max": ("每日共济笔数上限", "grants per day"),
    "grants_per_day_count_rejected_and_expired": (
        "被拒收、过期的也计入每日笔数",
        "rejected and expired count",
    ),
    "grant_amount_max_fen": ("单笔共济金额上限", "largest grant"),
    "grant_monthly_cap_fen": ("每月共济上限", "monthly cap"),
    "grant_yearly_cap_fen": ("每年共济上限", "yearly cap"),
    "quiet_hours_start": ("暂停发起共济开始时间", "quiet hours start"),
    "quiet_hours_end": ("暂停发起共济结束时间", "quiet hours end"),
    "offer_expiry_time": ("未接收退回时间", "offer expiry time"),
    "offer_expiry_after_days": ("未接收退回天数", "offer expiry after days"),
    "one_open_offer_per_pair": ("同一亲属仅一笔待接收", "one open offer per pair"),
    "onward_granting_allowed": ("收到的额度可再共济", "onward granting allowed"),
    "grant_revocation_allowed_after_days": ("接收后可收回天数", "revocation after days"),
    "authorization_scope": ("家庭共济授权范围", "authorization scope"),
    "own_spending_current_year_first": ("本人支付先用当年", "own spending current year first"),
    "mutual_aid_earlier_years_only": ("仅历年账户可共济", "earlier years only"),
    "kinship_generation_gap_min_years": (
        "父母与子女最小年龄差（年）",
        "minimum parent-child age gap",
    ),
    "wallet_place_of_use_change_allowed": ("允许变更使用地", "place of use change allowed"),
    "payment_password_required": ("须设置支付密码", "payment password required"),
    "mutual_aid_choice_default": (
        "未选择时就医使用家庭共济",
        "family mutual aid pays when not chosen",
    ),
    "payment_order": ("支付顺序", "payment order"),
    "business_timezone": ("业务时区", "business time zone"),
}

SETTLEMENT_FIELD: Final[Words] = {
    "medfee_sumamt": ("医疗费总额", "total medical fees"),
    "fulamt_ownpay_amt": ("全自费金额", "fully self-paid"),
    "overlmt_selfpay": ("超限价自费费用", "self-paid above price ceilings"),
    "preselfpay_amt": ("先行自付金额", "first self-payment (class B)"),
    "inscp_scp_amt": ("符合政策范围金额", "within policy scope"),
    "act_pay_dedc": ("实际支付起付线", "deductible applied"),
    "hifp_pay": ("统筹基金支出", "pooled fund pays"),
    "fund_pay_sumamt": ("基金支付总额", "all funds pay"),
    "hosp_part_amt": ("医院负担金额", "institution bears"),
    "psn_part_amt": ("个人负担总金额", "the person bears"),
    "acct_pay": ("个人账户支出", "paid from the personal account"),
    "acct_mulaid_pay": ("个人账户共济支付金额", "paid from family mutual aid"),
    "psn_cash_pay": ("个人现金支出", "paid in cash"),
    "balc": ("个人账户余额", "personal account balance after"),
}

MED_TYPE: Final[Words] = {
    "11": ("普通门诊", "outpatient"),
    "14": ("门诊慢特病", "chronic and special outpatient"),
    "21": ("住院", "inpatient"),
    "41": ("定点药店购药", "pharmacy purchase"),
}

CERT_TYPE: Final[Words] = {
    "02": ("居民身份证", "resident ID card"),
    "03": ("社会保障卡", "social security card"),
    "01": ("医保电子凭证", "e-voucher (QR code)"),
}

ITEM_CLASS: Final[Words] = {
    "A": ("甲类", "class A"),
    "B": ("乙类", "class B"),
    "C": ("丙类", "class C"),
}

DRAW_KIND: Final[Words] = {
    "own": ("本人个人账户", "own personal account"),
    "grant": ("亲属共济额度", "family grant quota"),
    "authorization": ("家庭共济授权", "family authorization"),
}

SETTLEMENT_KIND: Final[Words] = {
    "settlement": ("结算", "settlement"),
    "reversal": ("撤销", "reversal"),
}
