"""A pharmacy's and a hospital's HIS on the REST settlement API (docs/settlement-api.md):
each signs its requests with its own key; the son and his mother are insured, related, and
present their ID cards (support.credentials)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from gongji.core.clock import ManualClock
from gongji.identity.service.signing import sign_request
from gongji.institutions.service import institutions
from gongji.kernel.context import Context
from gongji.mutual_aid.service.accounts import personal_account_view
from gongji.mutual_aid.service.wallet_view import wallet_view
from support.api import make_client
from support.credentials import card
from support.desk import HOSPITAL, PHARMACY, open_desks
from support.world import ELDER, at, build_context, give, insured, relate, run

SON, MOTHER = "P620100000001", "P370100000001"
BASE = "/api/v1/settlements"
_nonces = itertools.count(1)


@dataclass
class Till:
    """An institution's HIS: signs every request with its own key."""

    client: TestClient
    clock: ManualClock
    key_id: str
    secret: str

    def headers(
        self, method: str, path: str, body: bytes, *, skew_s: int = 0, nonce: str | None = None
    ) -> dict[str, str]:
        timestamp = int(self.clock.now().timestamp()) + skew_s
        nonce = nonce or f"nonce-{next(_nonces):012d}"
        signed = sign_request(self.key_id, self.secret, method, path, body, timestamp, nonce)
        return {**signed, "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, Any], **signing: Any) -> Any:
        raw = json.dumps(body, ensure_ascii=False).encode()
        return self.client.post(
            path, content=raw, headers=self.headers("POST", path, raw, **signing)
        )

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self.headers("GET", path, b""))


@dataclass
class Counter:
    ctx: Context
    clock: ManualClock
    pharmacy: Till
    hospital: Till

    def give(self, by: str, to: str, amount_fen: int) -> str:
        return give(self.ctx, by, to, amount_fen)

    def received(self, psn_no: str) -> int:
        return run(self.ctx, lambda uow: wallet_view(self.ctx, uow, psn_no)).received_total_fen

    def available(self, psn_no: str, region: str = "620100") -> int:
        view = run(self.ctx, lambda uow: personal_account_view(self.ctx, uow, region, psn_no))
        return view.available_fen


def _till(ctx: Context, client: TestClient, clock: ManualClock, code: str) -> Till:
    issued = run(ctx, lambda uow: institutions.issue_credentials(ctx, uow, code))
    return Till(client, clock, issued.key_id, issued.secret)


def seed_family(engine: Engine) -> tuple[Context, ManualClock]:
    """The desks open, 张建国 (Lanzhou, employee) and his mother 王桂兰 (Jinan, resident),
    related as parent, at 2026-03-02 10:00 Beijing time."""
    clock = ManualClock(at("2026-03-02 10:00:00"))
    ctx = build_context(engine, clock)
    open_desks(ctx)
    insured(ctx, SON, current=180_000, earlier=620_000, name="张建国")
    insured(ctx, MOTHER, region="370100", insutype="390", name="王桂兰", born=ELDER)
    relate(ctx, SON, MOTHER, "parent")
    return ctx, clock


@contextmanager
def open_counter(engine: Engine, tmp_path: Path) -> Iterator[Counter]:
    ctx, clock = seed_family(engine)
    with make_client(ctx, clock, tmp_path) as client:
        yield Counter(
            ctx,
            clock,
            _till(ctx, client, clock, PHARMACY),
            _till(ctx, client, clock, HOSPITAL),
        )


def mother_bill(request_id: str | None = "jn-1", **changes: Any) -> dict[str, Any]:
    """The mother's bill at the pharmacy, on her ID card and name."""
    body: dict[str, Any] = {
        **card(MOTHER),
        "med_type": "41",
        "lines": [{"item_code": "TA", "quantity": "2", "unit_price": "60.00"}],
    }
    if request_id is not None:
        body["request_id"] = request_id
    return {**body, **changes}
