"""Durable background work: a job table and the worker loop that drains it."""
