"""Governance documents: the library readers see, and publishing versions."""
