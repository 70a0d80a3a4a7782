"""Shares: share types, the share ledger, orders and payments, certificates, withdrawals and
transfers, and the share register as of a date."""
