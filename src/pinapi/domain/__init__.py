"""The business: entities, rules and services, free of HTTP and SQL strings."""
