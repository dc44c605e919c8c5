"""Blueprints, one per area. Views validate, call a service, commit, and redirect or render."""
