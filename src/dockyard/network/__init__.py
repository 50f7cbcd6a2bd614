"""Networking: bridges, veth pairs, IPAM, nftables NAT and published ports, hosts files.

The engine talks to `NetworkManager` (manager.py) only; the other modules are its parts.
"""
