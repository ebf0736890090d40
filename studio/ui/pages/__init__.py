"""The window's pages, one module per tab. Pages expose signals and public methods;
only the main window wires them to each other and to the workers."""
