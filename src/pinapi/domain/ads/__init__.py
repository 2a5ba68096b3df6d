"""Ads management: advertisers, campaigns, ad groups, their rules and derived statuses."""
