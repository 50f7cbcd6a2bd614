"""Test doubles and fixtures builders shipped as product code (see STYLE.md, convention 8)."""
