"""Benchmarks of the portal against PostgreSQL's own limits (README, "Benchmarks")."""
