"""Organic content: users, boards, sections, pins, follows, search and comments."""
