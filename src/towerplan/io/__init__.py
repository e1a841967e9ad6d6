"""Input and output edges: every file towerplan reads is read here, validated, with its CRS."""
