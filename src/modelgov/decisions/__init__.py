"""Decisions people make about model versions — approve, waive, promote — and what makes them
trustworthy: the evidence each one is bound to, the SSH signature of the person who made it, and the
policy gate a promotion must pass. The audit log itself is :mod:`modelgov.audit`."""
