"""The conformance kit's engine (``gongji fsi replay FILE``): a recorded national-interface
session played against a server, each answer compared with the recorded one. Pure: the caller
sends the messages (:class:`Send`) and prints the report.

A session is JSON lines, one message each::

    {"note": "2201 挂号", "request": {...the envelope...}, "answer": {...the expected answer...}}

Placeholders stand for what differs between runs. In an expected answer:

- ``"<any>"`` matches any value (a reply id's random part, a masked ID number);
- ``"<time>"`` matches any text (``refmsg_time``, ``respond_time``: the server's clock);
- ``"<name>"`` (any other name) matches anything the first time and binds the name to the value
  found (gongji's ``mdtrt_id``, a ``setl_id``); later it must equal that value.

In a request, ``"<name>"`` is replaced by its bound value, so a 2207 names the ``mdtrt_id`` its
2201 answered. Amounts are compared as decimals (``15.5`` equals ``15.50``).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

PLACEHOLDER: Final = re.compile(r"<[A-Za-z0-9_:]+>")
ANY: Final = "<any>"
TIME: Final = "<time>"

Send = Callable[[Mapping[str, Any]], str]
"""Sends one request envelope (signed by its ``fixmedins_code``), returns the answer's text."""


@dataclass(frozen=True, slots=True)
class Step:
    number: int
    note: str
    request: Mapping[str, Any]
    answer: Mapping[str, Any]


@dataclass
class Outcome:
    """What one step did: its mismatches (field paths) and a diff to print."""

    step: Step
    problems: list[str] = field(default_factory=list)
    diff: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


class SessionInvalid(ValueError):
    """A session file that is not JSON lines of ``request`` and ``answer`` objects."""


def read_session(lines: Iterable[str]) -> list[Step]:
    steps = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            entry = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            raise SessionInvalid(f"line {number}: not JSON ({exc})") from None
        if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
            raise SessionInvalid(f"line {number}: needs a request object and an answer object")
        if not isinstance(entry.get("answer"), dict):
            raise SessionInvalid(f"line {number}: needs a request object and an answer object")
        steps.append(Step(number, str(entry.get("note", "")), entry["request"], entry["answer"]))
    return steps


def fill(template: Any, bound: Mapping[str, Any]) -> Any:
    """A request with its placeholders replaced by the values bound so far."""
    if isinstance(template, dict):
        return {key: fill(value, bound) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, bound) for value in template]
    if isinstance(template, str) and template in bound:
        return bound[template]
    return template


def match(expected: Any, actual: Any, bound: dict[str, Any], path: str = "") -> list[str]:
    """The paths where ``actual`` differs from ``expected``; binds new placeholders."""
    if isinstance(expected, str) and PLACEHOLDER.fullmatch(expected):
        return _placeholder(expected, actual, bound, path)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [path or "(answer)"]
        problems = [f"{path}.{key}".lstrip(".") for key in actual.keys() - expected.keys()]
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}.{key}".lstrip("."))
            else:
                problems += match(value, actual[key], bound, f"{path}.{key}".lstrip("."))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [path]
        found: list[str] = []
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            found += match(want, got, bound, f"{path}[{index}]")
        return found
    return [] if _same(expected, actual) else [path]


def _placeholder(expected: str, actual: Any, bound: dict[str, Any], path: str) -> list[str]:
    if expected == ANY:
        return []
    if expected == TIME:
        return [] if isinstance(actual, str) else [path]
    if expected not in bound:
        bound[expected] = actual
        return []
    return [] if bound[expected] == actual else [path]


def _same(expected: Any, actual: Any) -> bool:
    numbers = (int, Decimal)
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, numbers) and isinstance(actual, numbers):
        return Decimal(expected) == Decimal(actual)
    return bool(expected == actual)


def play(steps: Iterable[Step], send: Send) -> list[Outcome]:
    """Send every step in order; each answer compared with the recorded one."""
    bound: dict[str, Any] = {}
    outcomes = []
    for step in steps:
        text = send(fill(step.request, bound))
        outcome = Outcome(step)
        try:
            actual = json.loads(text, parse_float=Decimal)
        except ValueError:
            outcome.problems = ["(answer is not JSON)"]
            outcome.diff = text[:2000]
        else:
            outcome.problems = match(step.answer, actual, bound)
            if outcome.problems:
                outcome.diff = _diff(resolved(step.answer, actual, bound), actual)
        outcomes.append(outcome)
    return outcomes


def resolved(expected: Any, actual: Any, bound: Mapping[str, Any]) -> Any:
    """The expected answer with its placeholders replaced by what they matched, so that a diff
    shows only what really differs."""
    if isinstance(expected, str) and PLACEHOLDER.fullmatch(expected):
        if expected in (ANY, TIME):
            return actual
        return bound.get(expected, expected)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {k: resolved(v, actual.get(k), bound) for k, v in expected.items()}
    if isinstance(expected, list) and isinstance(actual, list) and len(actual) == len(expected):
        return [resolved(e, a, bound) for e, a in zip(expected, actual, strict=True)]
    return expected


_MARKED: Final = re.compile(r'"@@(-?[0-9.]+)@@"')


def _diff(expected: Any, actual: Any) -> str:
    def lines(value: Any) -> list[str]:
        marked = json.dumps(
            value, ensure_ascii=False, indent=2, sort_keys=True, default=lambda d: f"@@{d}@@"
        )
        return _MARKED.sub(r"\1", marked).splitlines()  # decimals as the numbers they are

    return "\n".join(
        difflib.unified_diff(lines(expected), lines(actual), "expected", "answered", lineterm="")
    )


def report(outcomes: Iterable[Outcome]) -> tuple[bool, str]:
    """Whether every step matched, and the text to print."""
    out, ok = [], True
    for outcome in outcomes:
        step = outcome.step
        name = f"{step.number:3d} {step.request.get('infno', '????')} {step.note}".rstrip()
        if outcome.ok:
            out.append(f"ok   {name}")
            continue
        ok = False
        out.append(f"FAIL {name}: {', '.join(outcome.problems[:10])}")
        out.append(outcome.diff)
    return ok, "\n".join(out)
