"""The e-voucher's QR code: inline SVG made on the server from the token alone."""

from __future__ import annotations

import segno

from gongji.mutual_aid.pages.wallet_pages import voucher_qr

TOKEN = "EC1.P370100000001.1764811200.3f9a0c2b7d4e5f613f9a0c2b7d4e5f61abcdEF"


def test_the_qr_code_is_the_tokens_and_carries_no_text() -> None:
    svg = str(voucher_qr(TOKEN))
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert TOKEN not in svg and "<script" not in svg
    again = segno.make(TOKEN, error="m", micro=False)
    assert svg == again.svg_inline(scale=4, border=2, dark="#000", light="#fff", omitsize=True)
    assert again.designator.endswith(
        "-M"
    )  # medium error correction: a scratched screen still reads


def test_two_tokens_draw_two_codes() -> None:
    assert voucher_qr(TOKEN) != voucher_qr(TOKEN[:-1] + "X")
