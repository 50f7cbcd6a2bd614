"""Compose: what the user wrote (a compose file) → a typed `Project`, and later plan → apply.

The pure pipeline is load (`source`, `loader`) → interpolate → merge → validate (`schema`) →
normalize → `model.Project`; nothing after `normalize` sees a raw dict.
"""
