"""Notifications: what the portal tells people, in the portal and by e-mail."""
