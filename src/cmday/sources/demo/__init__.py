"""The demo source: settings (its [[sources]] entry) and adapter (the scripted mentions)."""
