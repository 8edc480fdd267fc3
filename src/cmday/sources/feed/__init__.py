"""RSS and Atom feeds, Google Alerts among them: settings (the [[sources]] entry) and adapter."""
