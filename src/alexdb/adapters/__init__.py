"""Storage backends behind the ports."""
