"""Ventanilla: the digital government platform of a Mexican municipality."""

__version__ = "0.1.0"
