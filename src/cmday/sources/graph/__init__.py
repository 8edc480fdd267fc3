"""Instagram and Facebook over Meta's Graph API: settings (their [[sources]] entries), api (what both share), token, and one adapter each."""
