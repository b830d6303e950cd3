"""Open311 GeoReport v2: the same tickets through the civic-tech standard (see docs/OPEN311.md)."""
