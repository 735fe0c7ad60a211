"""What every page must satisfy in a browser: nothing wider than the screen, a title, one h1,
a label for every input, alt text for every image, a switch to the other language; and a
screenshot of it for people to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"
PHONE = {"width": 360, "height": 740}

_ACCESSIBILITY_PROBLEMS = """() => {
  const problems = [];
  if (!document.title.trim()) problems.push("no <title>");
  if (!document.documentElement.lang) problems.push("no lang on <html>");
  const h1 = document.querySelectorAll("h1");
  if (h1.length !== 1) problems.push(`${h1.length} <h1> elements`);
  const other = document.documentElement.lang === "en" ? "中文" : "English";
  const switcher = document.querySelector("header.top a[lang]");
  if (!switcher || switcher.textContent.trim() !== other) problems.push("no language switch");
  for (const input of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const byFor = input.id && document.querySelector(`label[for="${CSS.escape(input.id)}"]`);
    const named = byFor || input.closest("label") || input.getAttribute("aria-label")
      || input.getAttribute("aria-labelledby");
    if (!named || (byFor && !byFor.textContent.trim())) {
      problems.push(`no label: ${input.outerHTML.slice(0, 80)}`);
    }
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(`no alt: ${img.outerHTML.slice(0, 80)}`);
  }
  for (const svg of document.querySelectorAll("svg[role=img]")) {
    if (!svg.getAttribute("aria-label") && !svg.getAttribute("aria-labelledby")) {
      problems.push("an svg image without a name");
    }
  }
  for (const button of document.querySelectorAll("button, a.button")) {
    if (!button.textContent.trim() && !button.getAttribute("aria-label")) {
      problems.push(`a button without text: ${button.outerHTML.slice(0, 80)}`);
    }
  }
  return problems;
}"""

_WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


def check_page(page: Any, name: str) -> None:
    """No horizontal overflow, the accessibility basics, and the screenshots: NAME.png of the
    360 × 740 viewport and full/NAME.png of the whole page, under test-output/screenshots/."""
    scroll_width, inner_width = page.evaluate(_WIDTHS)
    assert scroll_width <= inner_width, f"{name}: {scroll_width}px wide on a {inner_width}px screen"
    problems = page.evaluate(_ACCESSIBILITY_PROBLEMS)
    assert problems == [], f"{name}: {problems}"
    (SCREENSHOTS / "full").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
    page.screenshot(path=str(SCREENSHOTS / "full" / f"{name}.png"), full_page=True)
