"""9001 签到 (sign-in) and 9002 签退 (sign-out) on the national interface.

A HIS signs its operator in at the start of a shift and keeps the ``sign_no`` it gets for the
envelopes that follow; many will not send a bill before 9001 has succeeded. gongji holds no
sessions: its requests are authenticated by their signature (docs/signing.md), so sign-in
checks the fields, answers a sign number and the time, and records nothing; ``sign_no`` in later
envelopes is accepted and not interpreted.

The sign number is the institution's code, the time of sign-in ``yyyyMMddHHmmss`` (Asia/Shanghai)
and four random digits: 30 characters, the platform's length, and it says whose and when.
"""

from __future__ import annotations

import re
import secrets
from typing import Any, Final

from gongji.fsi.domain import fields
from gongji.fsi.http.envelope import Envelope
from gongji.kernel.context import Context
from gongji.store.uow import UnitOfWork

OPERATOR_LENGTH_MAX: Final = 20
_SIGN_NO: Final = re.compile(r"[A-Za-z0-9]{1,30}")
_ADDRESS: Final = re.compile(r"[0-9A-Fa-f:.\-]{1,45}")  # an IPv4/IPv6 or MAC address
_SIGN_TIME: Final = "%Y-%m-%d %H:%M:%S"


def sign_in(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """9001: ``signIn`` {``opter_no``, ``mac``, ``ip``} → ``signinoutb`` {sign_time, sign_no}."""
    data = fields.child(env.input, "signIn")
    fields.required_text(data, "opter_no", length_max=OPERATOR_LENGTH_MAX, where="signIn.")
    for name in ("mac", "ip"):
        fields.text(data, name, required=False, pattern=_ADDRESS, where="signIn.")
    now = ctx.local_now()
    sign_no = f"{institution}{now:%Y%m%d%H%M%S}{secrets.randbelow(10_000):04d}"
    return {"signinoutb": {"sign_time": f"{now:{_SIGN_TIME}}", "sign_no": sign_no}}


def sign_out(ctx: Context, uow: UnitOfWork, env: Envelope, institution: str) -> dict[str, Any]:
    """9002: ``signOut`` {``sign_no``, ``opter_no``} → ``signoutoutb`` {sign_time}."""
    data = fields.child(env.input, "signOut")
    fields.required_text(data, "sign_no", pattern=_SIGN_NO, where="signOut.")
    fields.required_text(data, "opter_no", length_max=OPERATOR_LENGTH_MAX, where="signOut.")
    return {"signoutoutb": {"sign_time": f"{ctx.local_now():{_SIGN_TIME}}"}}
