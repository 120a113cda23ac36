"""Comparator areas (England, the South East, Kent's CIPFA nearest neighbours) and their
figures, loaded centrally by the Forum team and never rolled up into Kent."""
