"""The brand's mailbox: settings (its [[sources]] entry), adapter, and the adapter's parts: entities, fetch (IMAP), send (SMTP)."""
