"""qbox: the call-centre queue machine service and its ``qbox`` command."""

__version__ = "0.1.0"
