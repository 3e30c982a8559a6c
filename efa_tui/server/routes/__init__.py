"""HTTP routes of the reference marketplace, one module per resource."""
