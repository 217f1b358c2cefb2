"""Templates of the files provisioning writes on a box (string.Template syntax)."""
