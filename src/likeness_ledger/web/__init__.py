"""HTTP interfaces: the REST API (and later the portal), thin adapters over the services."""
