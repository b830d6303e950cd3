"""Topics (议题), opinions, follows and the council (议事会)."""
