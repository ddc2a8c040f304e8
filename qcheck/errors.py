"""The errors qcheck raises to its callers."""

from __future__ import annotations


class QcheckError(Exception):
    """Base class of qcheck's own errors: each maps to exit status 2 on the command line."""


class ModelError(QcheckError):
    """The model could not be read: missing, not a .tflite file, or structurally broken."""


class UsageError(QcheckError):
    """The user asked for something that does not exist (an unknown rule, format or option)."""
