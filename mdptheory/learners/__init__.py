"""Online exploration algorithms for episodic MDPs, one file per algorithm."""
