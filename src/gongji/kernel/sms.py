"""Sending one-time codes: an interface, the development gateway and an HTTP provider.

``LogSmsGateway`` writes the code to the log (and keeps the last one per number for tests and
the demo); bootstrap allows it only when ``GONGJI_ENV=development``, the one mode in which a
one-time code may appear in a log. ``HttpSmsGateway`` posts to a provider the way domestic SMS
APIs are called: a JSON body with the number, the sign (签名), the template code and its
parameters, signed with HMAC-SHA256 over the app key, a timestamp, a nonce and the body's hash.
It sends from a worker thread, so no request (and no database transaction) waits for the
provider; a failed send is logged with the masked number and the provider's answer, never the
code, and the caller's answer does not change (it must not tell known numbers from unknown).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Final, Protocol

from gongji.core.masking import mask_phone

log = logging.getLogger("gongji.sms")

LOGIN_TEMPLATE_ZH: Final = (
    "【{sign}】您的验证码为 {code}，5 分钟内有效。如非本人操作，请忽略本短信。"
)
"""The login template's text as registered with the provider (the provider holds it by id)."""

SEND_TIMEOUT_S: Final = 5.0
QUEUE_MAX: Final = 1_000
"""Codes waiting for the provider; beyond it a send is dropped (and logged), never blocking."""


class SmsGateway(Protocol):
    def send_code(self, mobile: str, code: str) -> None: ...


class LogSmsGateway:
    def __init__(self) -> None:
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()

    def send_code(self, mobile: str, code: str) -> None:
        # The code must be readable in a development log; the number is masked like every log.
        log.warning("development SMS gateway: one-time code for %s is %s", mask_phone(mobile), code)
        with self._lock:
            self._last[mobile] = code

    def last_code(self, mobile: str) -> str | None:
        with self._lock:
            return self._last.get(mobile)


@dataclass(frozen=True, slots=True)
class HttpSmsConfig:
    url: str
    app_key: str
    app_secret: str
    sign_name: str
    template_login: str


def sign_body(app_key: str, app_secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The provider's signature: HMAC-SHA256 (hex) of key, time, nonce and the body's SHA-256."""
    text = f"{app_key}\n{timestamp}\n{nonce}\n{hashlib.sha256(body).hexdigest()}"
    return hmac.new(app_secret.encode(), text.encode(), hashlib.sha256).hexdigest()


class HttpSmsGateway:
    """Posts each code to the provider from one worker thread (started on first use)."""

    def __init__(self, config: HttpSmsConfig) -> None:
        self._config = config
        self._queue: queue.Queue[tuple[str, str]] = queue.Queue(QUEUE_MAX)
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()

    def send_code(self, mobile: str, code: str) -> None:
        self._start()
        try:
            self._queue.put_nowait((mobile, code))
        except queue.Full:
            log.error("SMS queue full: code for %s dropped", mask_phone(mobile))

    def drain(self, timeout_s: float = SEND_TIMEOUT_S * 2) -> None:
        """Wait until every queued code has been handed to the provider (tests, shutdown)."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _start(self) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="gongji-sms", daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            mobile, code = self._queue.get()
            try:
                self.post(mobile, code)
            except Exception:  # never let one failure stop the sending of the next code
                log.exception("SMS provider call failed for %s", mask_phone(mobile))
            finally:
                self._queue.task_done()

    def request(self, mobile: str, code: str) -> urllib.request.Request:
        """The provider request for one code: JSON body, signed headers."""
        config = self._config
        body = json.dumps(
            {
                "phone": mobile,
                "sign_name": config.sign_name,
                "template_code": config.template_login,
                "template_param": {"code": code},
            },
            ensure_ascii=False,
        ).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-App-Key": config.app_key,
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "X-Signature": sign_body(config.app_key, config.app_secret, timestamp, nonce, body),
        }
        return urllib.request.Request(config.url, data=body, headers=headers, method="POST")

    def post(self, mobile: str, code: str) -> bool:
        """Send now; True when the provider accepted. Logs a refusal without the code."""
        try:
            with urllib.request.urlopen(  # the URL is the operator's own setting
                self.request(mobile, code), timeout=SEND_TIMEOUT_S
            ) as response:
                answer = json.loads(response.read(64 * 1024) or b"{}")
        except (urllib.error.URLError, TimeoutError, ValueError) as problem:
            log.error("SMS provider unreachable for %s: %s", mask_phone(mobile), problem)
            return False
        accepted = str(answer.get("code", "")).upper() in ("OK", "0")
        if not accepted:
            shown = str(answer.get("message", ""))[:200]
            log.error("SMS provider refused %s: %s", mask_phone(mobile), shown)
        return accepted
