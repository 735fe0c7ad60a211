"""People: the register of insured persons, their enrolments and events, the civil-affairs
kinship register, and the operators' CSV imports that fill them (docs/rules.md §3, §5).

Public face for other areas: ``people.service.registry`` (a person, their enrolments, their
history), ``people.service.persons`` and ``people.service.credentials_lookup``.
"""
