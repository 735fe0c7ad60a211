"""The HTTP SMS provider against a small local server (127.0.0.1 only): the request's shape and
signature, and no one-time code in any log line outside the development gateway.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gongji.bootstrap import sms_gateway
from gongji.config import Settings
from gongji.core.clock import ManualClock
from gongji.identity.service import identity
from gongji.kernel.context import Context
from gongji.kernel.sms import HttpSmsConfig, HttpSmsGateway, LogSmsGateway, sign_body
from support.world import insured, run


@dataclass
class Provider:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=lambda: {"code": "OK", "message": "成功"})


@pytest.fixture
def provider() -> Iterator[Provider]:
    state = Provider("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
            answer = json.dumps(state.answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()


def gateway(provider: Provider) -> HttpSmsGateway:
    config = HttpSmsConfig(provider.url, "app-1", "s3cret", "医保钱包", "SMS_LOGIN_01")
    return HttpSmsGateway(config)


def test_the_request_is_signed_json_with_phone_sign_template_and_code(provider: Provider) -> None:
    assert gateway(provider).post("13919310001", "123456") is True
    (sent,) = provider.received
    body = json.loads(sent["body"])
    assert sent["path"] == "/sms/send"
    assert body == {
        "phone": "13919310001",
        "sign_name": "医保钱包",
        "template_code": "SMS_LOGIN_01",
        "template_param": {"code": "123456"},
    }
    headers = {name.lower(): value for name, value in sent["headers"].items()}
    assert headers["content-type"].startswith("application/json")
    assert headers["x-app-key"] == "app-1"
    assert headers["x-timestamp"].isdigit() and len(headers["x-nonce"]) == 32
    expected = sign_body(
        "app-1", "s3cret", headers["x-timestamp"], headers["x-nonce"], sent["body"]
    )
    assert headers["x-signature"] == expected


def test_codes_sent_through_the_provider_never_reach_the_log(
    ctx: Context, clock: ManualClock, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    http_gateway = gateway(provider)
    object.__setattr__(ctx, "sms", http_gateway)
    psn_no = insured(ctx, "P620100000001", name="张建国")
    mobile = f"138{abs(hash(psn_no)) % 10**8:08d}"  # as support.world registers it
    caplog.set_level(logging.DEBUG)
    run(ctx, lambda uow: identity.request_code(ctx, uow, mobile))
    http_gateway.drain()
    provider.answer = {"code": "isv.BUSINESS_LIMIT_CONTROL", "message": "触发流控"}
    clock.advance(timedelta(seconds=1))
    run(ctx, lambda uow: identity.request_code(ctx, uow, mobile))
    http_gateway.drain()
    codes = [json.loads(sent["body"])["template_param"]["code"] for sent in provider.received]
    assert len(codes) == 2
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "触发流控" in logged and f"138****{mobile[-4:]}" in logged  # refusal logged, masked
    assert all(code not in logged for code in codes)
    assert mobile not in logged


def test_only_the_development_gateway_writes_the_code(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    LogSmsGateway().send_code("13919310001", "654321")
    assert "654321" in caplog.text
    http = Settings.from_env(
        {"GONGJI_DATA_DIR": str(tmp_path), "GONGJI_SMS_PROVIDER": "http", "GONGJI_SMS_URL": "x"}
    )
    assert isinstance(sms_gateway(http), HttpSmsGateway)
    assert isinstance(sms_gateway(Settings.from_env({})), LogSmsGateway)
