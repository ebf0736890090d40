"""Background work: the training workers (thread and subprocess), dataset loading and
short engine tasks. Nothing here touches a widget."""
