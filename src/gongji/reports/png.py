"""SVG to PNG with whatever converter is installed; gongji itself depends on none.

Tried in order: the ``cairosvg`` package, the ``rsvg-convert`` program (librsvg), then a
headless Chromium or Chrome. Each program gets a time limit. When none is there, the caller
hears :class:`PngConverterMissing` and says so in one line: the SVG is the product, a PNG is
a convenience.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import tempfile
from pathlib import Path

CONVERT_TIMEOUT_S = 60
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class PngConverterMissing(RuntimeError):
    """No SVG converter is installed (cairosvg, rsvg-convert or a headless Chromium)."""

    def __init__(self) -> None:
        super().__init__(
            "no SVG to PNG converter found: install rsvg-convert (librsvg), cairosvg or chromium"
        )


def svg_to_png(svg: str, target: Path, width: int, height: int) -> str:
    """Write ``target`` from ``svg``; returns the name of the converter used."""
    try:
        cairosvg = importlib.import_module("cairosvg")
    except ImportError:
        cairosvg = None
    if cairosvg is not None:
        cairosvg.svg2png(bytestring=svg.encode(), write_to=str(target))
        return "cairosvg"
    with tempfile.TemporaryDirectory(prefix="gongji-svg-") as scratch:
        source = Path(scratch) / "clearing.svg"
        source.write_text(svg, encoding="utf-8")
        rsvg = shutil.which("rsvg-convert")
        if rsvg is not None:
            _run([rsvg, "-o", str(target), str(source)])
            return "rsvg-convert"
        browser = next((found for name in BROWSERS if (found := shutil.which(name))), None)
        if browser is None:
            raise PngConverterMissing()
        _run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={Path(scratch) / 'profile'}",
                f"--window-size={width},{height}",
                f"--screenshot={target.resolve()}",
                source.resolve().as_uri(),
            ]
        )
        return Path(browser).name


def _run(command: list[str]) -> None:
    completed = subprocess.run(
        command, capture_output=True, timeout=CONVERT_TIMEOUT_S, check=False, text=True
    )
    if completed.returncode != 0:
        last = (completed.stderr or completed.stdout).strip().splitlines()[-1:]
        raise OSError(
            f"{Path(command[0]).name} failed: {last[0] if last else completed.returncode}"
        )
