"""Server-rendered pages for people: the OAuth sign-in and consent screens.

Pages are Jinja2 templates with plain inline CSS (nothing is fetched from elsewhere); the
browser's sign-in state is a signed cookie (``session.py``) keyed by the instance key.
"""
