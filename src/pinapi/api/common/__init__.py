"""Cross-cutting wire pieces: envelope, errors, parameters, auth, limits, paging, request ids."""
