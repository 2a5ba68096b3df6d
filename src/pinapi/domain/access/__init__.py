"""Who may do what: users, apps, OAuth grants and tokens, scopes, account-sharing roles."""
