"""Template filters of the performance app."""
