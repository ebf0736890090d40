"""Reusable widgets: live training plots, charts, their styling, banners, the device picker."""
