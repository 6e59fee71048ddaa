"""Mắt Thần: a real-time video analytics cluster for community security cameras."""

__version__ = "0.1.0"
