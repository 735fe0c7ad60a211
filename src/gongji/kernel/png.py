"""SVG to PNG with cairosvg, a dependency of gongji (it needs the libcairo2 system library).

When cairo cannot be loaded (cairosvg imports but finds no libcairo), the ``rsvg-convert``
program (librsvg) is tried instead, with a time limit; when neither is there the caller hears
:class:`PngConverterMissing` and says so in one line: the SVG is the product, a PNG is a
convenience.

cairosvg draws text with the *first* family of a ``font-family`` list only, and the fallback of
fontconfig (DejaVu on a bare Debian) has no Chinese glyphs. So before converting, every
``font-family`` list is cut down to its first family that fontconfig knows (``fc-list``), and
Chinese labels come out as Chinese wherever a CJK font such as WenQuanYi or Noto CJK is
installed. Without one the picture is still drawn, with empty boxes for the Chinese characters.
"""

from __future__ import annotations

import functools
import importlib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import ModuleType

CONVERT_TIMEOUT_S = 60
FONT_LIST_TIMEOUT_S = 10
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FONT_FAMILY = re.compile(r"""font-family=(["'])(.*?)\1""")
_GENERIC_FAMILIES = frozenset({"serif", "sans-serif", "monospace", "cursive", "fantasy"})


class PngConverterMissing(RuntimeError):
    """Neither cairo (for cairosvg) nor ``rsvg-convert`` can be used on this machine."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"no SVG to PNG converter usable ({reason}): install libcairo2 or rsvg-convert"
        )


def svg_to_png_bytes(svg: str) -> bytes:
    """The PNG of ``svg`` (same size as the SVG's width and height)."""
    prepared = with_installed_fonts(svg)
    cairosvg, reason = _cairosvg()
    if cairosvg is not None:
        png = cairosvg.svg2png(bytestring=prepared.encode("utf-8"))
        if not isinstance(png, bytes) or not png.startswith(PNG_SIGNATURE):
            raise OSError("cairosvg did not return a PNG")
        return png
    rsvg = shutil.which("rsvg-convert")
    if rsvg is None:
        raise PngConverterMissing(reason)
    return _rsvg_convert(rsvg, prepared)


def svg_to_png(svg: str, target: Path) -> None:
    """Write ``target`` as the PNG of ``svg``; nothing is written when conversion fails."""
    target.write_bytes(svg_to_png_bytes(svg))


def with_installed_fonts(svg: str) -> str:
    """Each ``font-family`` list cut to its first family installed here (or left as it is)."""
    installed = installed_font_families()
    if not installed:
        return svg

    def first_installed(match: re.Match[str]) -> str:
        families = [
            name.strip().strip("'\"") for name in match[2].replace("&apos;", "'").split(",")
        ]
        chosen = next((f for f in families if f.lower() in installed), None)
        if chosen is None:
            chosen = next((f for f in families if f in _GENERIC_FAMILIES), families[0])
        return f'font-family="{chosen}"'

    return _FONT_FAMILY.sub(first_installed, svg)


@functools.cache
def installed_font_families() -> frozenset[str]:
    """Lower-cased font family names fontconfig knows; empty when ``fc-list`` is not there."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return frozenset()
    try:
        completed = subprocess.run(
            [fc_list, ":", "family"],
            capture_output=True,
            timeout=FONT_LIST_TIMEOUT_S,
            check=False,
            text=True,
        )
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    names = (
        name.strip().lower() for line in completed.stdout.splitlines() for name in line.split(",")
    )
    return frozenset(name for name in names if name)


def _cairosvg() -> tuple[ModuleType | None, str]:
    """The cairosvg module, or None and why: it raises OSError when libcairo is missing."""
    try:
        return importlib.import_module("cairosvg"), ""
    except ImportError:
        return None, "cairosvg is not installed"
    except OSError as error:
        return None, f"cairosvg cannot load cairo: {str(error).splitlines()[0][:120]}"


def _rsvg_convert(rsvg: str, svg: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="gongji-svg-") as scratch:
        source, target = Path(scratch) / "picture.svg", Path(scratch) / "picture.png"
        source.write_text(svg, encoding="utf-8")
        completed = subprocess.run(
            [rsvg, "-o", str(target), str(source)],
            capture_output=True,
            timeout=CONVERT_TIMEOUT_S,
            check=False,
            text=True,
        )
        if completed.returncode != 0:
            last = (completed.stderr or completed.stdout).strip().splitlines()[-1:]
            raise OSError(f"rsvg-convert failed: {last[0] if last else completed.returncode}")
        return target.read_bytes()
