"""Thin typed wrappers over Linux system calls: the only package that touches ctypes."""
