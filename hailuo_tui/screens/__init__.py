"""Screens: the chat screen (owns the reply workers), login, help and small modals."""
