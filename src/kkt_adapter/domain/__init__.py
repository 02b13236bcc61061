"""The pure core: receipts in integer kopecks, fiscal results, the hybrid logical clock, and the error tree."""

from __future__ import annotations
