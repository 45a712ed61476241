"""Who may use the web and the API: tokens, one-time sign-in links, staff sessions, rate counts."""
