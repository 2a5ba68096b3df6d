"""Reporting: delivery metrics computed from the engine's fact rows.

``catalog`` names every metric and its formula, ``query`` reads a request's parameters and
aggregates the facts, ``books`` says when a day's numbers are final.
"""
