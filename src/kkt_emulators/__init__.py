"""The outside world of a fiscal adapter, emulated: the KKT with its fiscal drive, the OFD and the ERP endpoint.

This package never imports ``kkt_adapter``: it is an independent oracle of the fiscal contracts, usable by any
project's test suite.
"""

from __future__ import annotations
