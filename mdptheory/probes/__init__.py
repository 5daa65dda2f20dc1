"""Theory probes: Bellman completeness / realizability, circuit and Fourier representation
probes."""
