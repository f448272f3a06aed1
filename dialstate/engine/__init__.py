"""The engine: machines, transitions, policy decisions, claims and imports."""
