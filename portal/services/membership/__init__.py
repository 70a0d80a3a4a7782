"""Membership: joining (applications and their review) and leaving (resignation, ceasing),
and the member's data rights (export, anonymising)."""
