"""The HTTP API: an app factory, routes, request schemas, and one table from domain errors to HTTP."""

from __future__ import annotations
