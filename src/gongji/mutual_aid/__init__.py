"""Mutual aid (共济): wallets, relationships, grants, authorizations, premiums paid for
relatives, and the lifecycle events that end them (docs/rules.md §4–§7, §9, §10).

Public face for other areas: ``mutual_aid.service.records`` (a wallet, the grants and
authorizations that may pay for a person) and ``mutual_aid.service.accounts`` (what a personal
account holds).
"""
