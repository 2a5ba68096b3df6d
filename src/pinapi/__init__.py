"""pinapi: a stateful, self-hostable Pinterest Marketing API v3 server."""

__version__ = "0.1.0"
