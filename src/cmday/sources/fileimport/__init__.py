"""Mentions imported from CSV and JSON Lines files: settings (the [[sources]] entry) and adapter (the parsing too)."""
