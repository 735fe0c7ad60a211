"""Institutions: the designated hospitals and pharmacies (定点医药机构), their grade and place,
and the signing credentials the bureau issues them (docs/rules.md §1, §8).
"""
