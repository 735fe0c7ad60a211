"""The risk rules' parameter file, the case workflow and the evidence graph (docs/rules.md §12)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from importlib import resources

import pytest

from gongji.core.errors import GongjiError
from gongji.risk.domain.alerts import RuleCode
from gongji.risk.domain.cases import CaseState, check_closing, check_step
from gongji.risk.domain.graph import Edge
from gongji.risk.domain.params import NATIONAL, parse_risk_policy
from gongji.risk.reports.evidence_svg import render_graph

SVG = "{http://www.w3.org/2000/svg}"


def test_the_shipped_file_parses_and_repeats_the_built_in_defaults() -> None:
    text = resources.files("gongji.data").joinpath("risk_policy.toml").read_text("utf-8")
    book = parse_risk_policy(text)
    assert book.national.of(RuleCode.FAN_IN) == NATIONAL.of(RuleCode.FAN_IN)
    assert book.national.of(RuleCode.LIFECYCLE).hold is True
    assert NATIONAL.of(RuleCode.LIFECYCLE).hold is False


def test_a_city_change_wins_over_its_province() -> None:
    book = parse_risk_policy(
        '[[region]]\ncode = "620000"\nrule = "fan_in"\nmin_contributors = 7\nversion = 2\n'
        '[[region]]\ncode = "620100"\nrule = "fan_in"\nmin_contributors = 4\n'
    )
    assert book.for_region("620100").of(RuleCode.FAN_IN).min_contributors == 4
    assert book.for_region("620100").of(RuleCode.FAN_IN).version == 2  # the province's
    assert book.for_region("620200").of(RuleCode.FAN_IN).min_contributors == 7
    assert book.for_region("440100").of(RuleCode.FAN_IN).min_contributors == 5


@pytest.mark.parametrize(
    "text",
    [
        "[national.fan_in]\nmin_contributors = true\n",  # a boolean is not a number
        "[national.fan_in]\nenabled = 1\n",  # nor a number a boolean
        "[national.fan_in]\nmin_contributors = 2.5\n",
        "[national.fan_in]\nmin_contributor = 5\n",  # a typo is refused, never ignored
        "[national.fan_inn]\nenabled = true\n",
        '[[region]]\ncode = "62"\nrule = "fan_in"\n',
        "[risk]\n",
        "[national.fan_in\n",
    ],
)
def test_a_bad_parameter_file_is_refused(text: str) -> None:
    with pytest.raises(GongjiError) as caught:
        parse_risk_policy(text)
    assert caught.value.code == "risk_policy_invalid"


def test_the_case_workflow_allows_only_its_steps() -> None:
    check_step(CaseState.OPEN, CaseState.INVESTIGATING)
    check_step(CaseState.OPEN, CaseState.CLOSED_UNFOUNDED)
    check_step(CaseState.INVESTIGATING, CaseState.CLOSED_CONFIRMED)
    for state, to in [
        (CaseState.OPEN, CaseState.CLOSED_CONFIRMED),  # confirmed only after investigating
        (CaseState.INVESTIGATING, CaseState.OPEN),
        (CaseState.CLOSED_UNFOUNDED, CaseState.INVESTIGATING),
        (CaseState.CLOSED_CONFIRMED, CaseState.CLOSED_UNFOUNDED),
    ]:
        with pytest.raises(GongjiError, match="risk_case_step_refused"):
            check_step(state, to)


def test_a_recovery_only_on_a_confirmed_close_and_never_negative() -> None:
    check_closing(CaseState.CLOSED_CONFIRMED, 80_000)
    check_closing(CaseState.CLOSED_UNFOUNDED, None)
    for to, fen in [
        (CaseState.CLOSED_UNFOUNDED, 1),
        (CaseState.CLOSED_CONFIRMED, -1),
        (CaseState.CLOSED_CONFIRMED, True),
    ]:
        with pytest.raises(GongjiError, match="risk_recovery_invalid"):
            check_closing(to, fen)  # type: ignore[arg-type]


def test_the_evidence_graph_is_valid_svg_with_one_arrow_per_pair() -> None:
    edges = [
        Edge("P1", "R<&>", 50_000, 2),
        Edge("P2", "R<&>", 20_000, 1),
        Edge("R<&>", "P1", 100, 1),
    ]
    svg = render_graph("R<&>", edges, "资金往来图：R<&>")
    root = ET.fromstring(svg)  # escaped: parses as XML
    assert root.find(f"{SVG}title").text == "资金往来图：R<&>"  # type: ignore[union-attr]
    assert len(root.findall(f"{SVG}g[@class='edge']")) == 3
    assert len(root.findall(f"{SVG}g[@class='node']")) == 3
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "500.00 元 ×2" in labels and "1.00 元 ×1" in labels
    (subject,) = [g for g in root.findall(f"{SVG}g[@class='node']") if g[1].text == "R<&>"]
    assert (subject[0].get("cx"), subject[0].get("cy")) == ("260.0", "260.0")  # in the middle
