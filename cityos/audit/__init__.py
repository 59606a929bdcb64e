"""Append-only audit of every meaningful write (the security issue makes it tamper-evident)."""
