"""Settlement arithmetic (docs/rules.md §7–§8): what a bill costs, who pays which part.

Four steps, each a pure function over immutable values, so pre-settle and settle compute the
same figures and a reversal can be checked against them:

- :mod:`~gongji.settlement.domain.items` adjudicates each bill line against the catalogue:
  full self-pay, over-limit, first self-pay and in-scope parts, rounded half up per item, and
  whether account money may touch the item at all (§7).
- :mod:`~gongji.settlement.domain.benefits` holds the person's own scheme: deductible, ratio and
  annual cap by insutype × med_type × institution level × employed/retired. Sharing money never
  changes these (只共济资金, 不共享待遇), so they are looked up for the patient only.
- :mod:`~gongji.settlement.domain.compute` applies the deductible, the ratio and the cap left
  this year, and says how much of the personal burden accounts may pay.
- :mod:`~gongji.settlement.domain.payment` pays that burden in the configured order: own account,
  grants, authorizations, cash.

Invariants, checked on every result (a failure raises ``InvariantViolation``, a bug):

- ``medfee_sumamt = fulamt_ownpay_amt + overlmt_selfpay + preselfpay_amt + inscp_scp_amt``
- ``medfee_sumamt = fund_pay_sumamt + psn_part_amt + hosp_part_amt``
- ``psn_part_amt = acct_pay + psn_cash_pay`` and ``acct_mulaid_pay <= acct_pay``
- accounts never pay more than the account-payable amount, nor any source more than it holds;
  no amount is negative. All amounts are integer fen, whatever the national field name says.
"""
