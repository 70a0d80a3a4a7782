"""Domain rules: plain functions ``verb_noun(db, thing, *, actor, ...)``.

They check state transitions, raise :class:`portal.errors.PortalError` subclasses, flush
(never commit) and write the audit event. They know nothing of requests or templates.
"""
