"""Exact properties of an MDP: action gaps, diameter, communication class, value and
variance norms, hitting times."""
