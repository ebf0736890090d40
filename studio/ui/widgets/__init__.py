"""Reusable widgets: plots and charts, the device picker, image saving."""
