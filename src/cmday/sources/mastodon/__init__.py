"""Mastodon: settings (its [[sources]] entry), adapter, and the adapter's parts: entities, text, markup, fetch, send."""
