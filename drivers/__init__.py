"""Everything that touches hardware: DAHDI spans, alarm towers, sound, hot-plug, line switch.

Each driver has one interface and two backends (real and simulated), chosen by the
scheme of a device URL.  Nothing here imports ``appliance``.
"""
