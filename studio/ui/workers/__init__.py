"""Background work: the training workers (thread and subprocess) and their payloads, the
runs watcher, dataset loading and short engine tasks, all on threads owned by
:mod:`studio.ui.workers.threads`. Nothing here touches a widget."""
