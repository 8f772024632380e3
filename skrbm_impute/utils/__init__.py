"""Shared helpers: validation, torch device and seeding, scikit-learn compatibility."""
