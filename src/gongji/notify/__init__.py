"""Notifications (消息): what a family is told — a relative's proposal, an offer and its 06:00
return, money spent, a premium paid, a frozen wallet — in the in-app inbox and by SMS, with each
person's preferences and quiet hours (docs/rules.md §15).

Public face for other areas: ``notify.service.outbox.enqueue`` (say something to a person, once
per business event) and ``notify.service.preferences`` (a person's settings). The areas above
decide who is told what; this one stores, counts, renders and delivers.
"""
