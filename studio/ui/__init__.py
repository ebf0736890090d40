"""The PySide6 window. Never imports torch or the engine at module level."""
