"""Persistence: SQLAlchemy tables, sessions, Alembic migrations and id generation."""
