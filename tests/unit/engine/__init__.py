"""Unit tests of the engine's pure front half."""
