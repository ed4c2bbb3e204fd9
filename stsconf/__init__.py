"""Helpers for asserting StatefulSet guarantees on a real cluster."""
