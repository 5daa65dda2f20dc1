"""mdptheory.sweeps"""
