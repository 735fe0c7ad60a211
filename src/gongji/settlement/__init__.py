"""Settlement (结算): the catalogue, benefits, quoting, settling and reversing a bill, the
institutions' reconciliation and the monthly clearing between regions (docs/rules.md §7, §8, §11).

Public face for other areas: ``settlement.service.settlement_quote`` and ``settlement.service.
settlement`` (the use cases), ``settlement.service.records`` (a stored settlement).
"""
