"""Adapters from alexdb to other frameworks (optional extras)."""
