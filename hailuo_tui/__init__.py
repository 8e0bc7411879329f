"""hailuo-tui: a keyboard-driven terminal chat client for Hailuo AI (MiniMax)."""

__version__ = "0.1.0"
