"""Thin views: check access, call one service or selector, render."""
