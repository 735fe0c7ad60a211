"""The clearing picture as SVG and PNG, without a database: fonts cairosvg can use, a machine
without a converter, and an empty month.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from gongji.kernel import png
from gongji.settlement.domain.clearing import Flow, clear
from gongji.settlement.reports.clearing_svg import render_svg
from gongji.settlement.service.clearing import ClearingRun

SVG_NS = "{http://www.w3.org/2000/svg}"
NAMES = {"620000": "甘肃省", "370000": "山东省", "440000": "广东省"}


def _run(*flows: Flow) -> ClearingRun:
    return ClearingRun(clear("2026-03", flows), computed_at_us=0, stored_earlier=False)


def _texts(svg: str) -> list[str]:
    return [e.text or "" for e in ET.fromstring(svg.encode()).iter(f"{SVG_NS}text")]


def test_the_svg_draws_one_arrow_per_province_pair_with_names_and_amounts() -> None:
    run = _run(Flow("620100", "370100", 6_000, 1), Flow("620100", "440100", 123_456, 2))
    svg = render_svg(run, NAMES)
    root = ET.fromstring(svg.encode())
    assert len(list(root.iter(f"{SVG_NS}path"))) == 2
    assert len(list(root.iter(f"{SVG_NS}circle"))) == 3 + 2  # provinces + legend
    texts = _texts(svg)
    assert {"甘肃省", "山东省", "广东省", "60.00", "1,234.56", "-1,294.56"} <= set(texts)
    assert render_svg(run, NAMES) == svg  # the same result always renders to the same bytes


def test_an_empty_month_and_unknown_regions_still_render() -> None:
    assert "本月没有跨省清算金额" in _texts(render_svg(_run()))
    texts = _texts(render_svg(_run(Flow("620100", "370100", 100, 1))))  # no names given
    assert "620000" in texts and "370000" in texts


SAMPLE = (
    '<svg xmlns="http://www.w3.org/2000/svg" font-family="\'Noto Sans CJK SC\', '
    "'WenQuanYi Micro Hei', sans-serif\"><text>甘肃</text></svg>"
)


def test_font_lists_are_cut_to_the_first_installed_family(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(png, "installed_font_families", lambda: frozenset({"wenquanyi micro hei"}))
    assert 'font-family="WenQuanYi Micro Hei"' in png.with_installed_fonts(SAMPLE)
    monkeypatch.setattr(png, "installed_font_families", lambda: frozenset({"dejavu sans"}))
    assert 'font-family="sans-serif"' in png.with_installed_fonts(SAMPLE)
    monkeypatch.setattr(png, "installed_font_families", frozenset)
    assert png.with_installed_fonts(SAMPLE) == SAMPLE  # fontconfig unknown: left alone


def test_the_png_is_a_png_of_the_svgs_size() -> None:
    picture = png.svg_to_png_bytes(render_svg(_run(Flow("620100", "370100", 6_000, 1)), NAMES))
    assert picture.startswith(png.PNG_SIGNATURE)
    width, height = int.from_bytes(picture[16:20], "big"), int.from_bytes(picture[20:24], "big")
    assert (width, height) == (1160, 760)


def test_without_cairo_or_rsvg_convert_the_caller_is_told_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(png, "_cairosvg", lambda: (None, "cairosvg cannot load cairo: no lib"))
    monkeypatch.setattr(png.shutil, "which", lambda name: None)
    with pytest.raises(png.PngConverterMissing) as caught:
        png.svg_to_png_bytes(SAMPLE)
    assert "cannot load cairo" in str(caught.value) and "libcairo2" in str(caught.value)
