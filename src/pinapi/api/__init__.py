"""The wire: HTTP only, no business rules."""
