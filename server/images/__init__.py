"""Images Dockyard builds for itself: the sandbox (task default) and the busybox test image."""
