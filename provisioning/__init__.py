"""Fabric provisioning for technicians: inventory, plan, apply, verify, upgrade."""
