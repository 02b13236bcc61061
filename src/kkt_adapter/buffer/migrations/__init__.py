"""The buffer's schema, as numbered migrations: ``vN.sql`` takes a file from version N-1 to N (``PRAGMA user_version``).

A new file starts at 0 and runs them all; an existing one runs only those above its version, each in one
transaction, so an upgrade either completes or leaves the file as it was. Never edit a released migration: add one.
"""
