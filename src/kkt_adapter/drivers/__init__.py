"""Fiscal drivers: the one port through which the adapter prints (emulated KKT now, real devices later)."""

from __future__ import annotations
