"""What the resources share: settings and accounts, the base provider, the stack
identity and owner keys, input validation, the declaration machinery, and how
a resource class turns its arguments into input properties."""
