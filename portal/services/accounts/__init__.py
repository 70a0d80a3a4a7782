"""Accounts: sign-up, e-mail verification, sign-in, passwords and sessions."""
