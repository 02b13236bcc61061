"""pytest plugin (entry point ``pytest11``): fixtures that run the emulators for a test."""

from __future__ import annotations
