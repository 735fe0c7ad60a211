"""`gongji fsi replay FILE`: the conformance kit. Plays a recorded national-interface session
(JSON lines of request and expected answer, docs/national-interface.md "Conformance kit")
against a running server, signing each message as its ``fixmedins_code``, and prints a diff of
every answer that differs; exit 1 if any does."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from gongji.fsi.domain import replay
from gongji.fsi.http.wire import dumps
from gongji.identity.service.gateway import AuthScheme, tif_headers
from gongji.identity.service.signing import sign_request

fsi_app = typer.Typer(
    help="The national interface (国家医保接口): conformance kit.", no_args_is_help=True
)
CALL_SERVICE = "/fsi/api/rsfComIfsService/callService"
TIMEOUT_S = 30


def _keys(pairs: list[str]) -> dict[str, tuple[str, str]]:
    keys = {}
    for pair in pairs:
        code, _, key = pair.partition("=")
        key_id, _, secret = key.partition(":")
        if not code or not key_id or not secret:
            raise typer.BadParameter(f"--key wants CODE=KEY_ID:SECRET, not {pair!r}")
        keys[code] = (key_id, secret)
    return keys


def sender(url: str, keys: Mapping[str, tuple[str, str]], scheme: AuthScheme) -> replay.Send:
    """Posts a message signed by the key of its ``fixmedins_code``; the answer's text."""

    def send(message: Mapping[str, Any]) -> str:
        code = str(message.get("fixmedins_code", ""))
        if code not in keys:
            raise typer.BadParameter(f"no --key for institution {code!r}")
        key_id, secret = keys[code]
        body = dumps(message).encode()  # decimals read from the session go out as numbers
        stamp, nonce = int(time.time()), uuid.uuid4().hex
        if scheme is AuthScheme.TIF:
            headers = tif_headers(key_id, secret, stamp, nonce)
        else:
            headers = sign_request(key_id, secret, "POST", CALL_SERVICE, body, stamp, nonce)
        headers["Content-Type"] = "application/json; charset=utf-8"
        request = urllib.request.Request(url.rstrip("/") + CALL_SERVICE, body, headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                return str(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:  # a 500 still carries the envelope
            return str(error.read().decode("utf-8", "replace"))

    return send


@fsi_app.command("replay")
def replay_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    key: Annotated[
        list[str], typer.Option(help="CODE=KEY_ID:SECRET for each institution of the session.")
    ],
    url: Annotated[str, typer.Option(help="The server.")] = "http://127.0.0.1:8000",
    scheme: Annotated[AuthScheme, typer.Option(help="How to sign.")] = AuthScheme.HMAC_SM3,
) -> None:
    """Play a recorded session against a server; print each step, and a diff where it differs."""
    try:
        steps = replay.read_session(file.read_text("utf-8").splitlines())
    except replay.SessionInvalid as invalid:
        typer.echo(f"{file}: {invalid}", err=True)
        raise typer.Exit(2) from None
    ok, text = replay.report(replay.play(steps, sender(url, _keys(key), scheme)))
    typer.echo(text)
    raise typer.Exit(0 if ok else 1)
