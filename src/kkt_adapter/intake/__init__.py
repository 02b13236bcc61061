"""Phase 1: accept a sale, print it on the KKT at once, keep it durably; reconcile with the device's journal."""

from __future__ import annotations
