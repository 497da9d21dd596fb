"""HTTP: generated pages and the REST API."""
