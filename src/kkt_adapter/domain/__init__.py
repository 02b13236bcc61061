"""The pure core: receipts in integer kopecks and the fiscal field rules they are made of (FFD code tables, INN,
marking code, buyer's contact, CP866 text), fiscal results, the hybrid logical clock, and the error tree."""

from __future__ import annotations
