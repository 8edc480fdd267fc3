"""Bluesky: settings (its [[sources]] entry), adapter, and the adapter's parts: xrpc (the session), entities, text, fetch, send."""
