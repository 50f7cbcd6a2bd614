"""Typed models of the OCI runtime, image and distribution specifications."""
