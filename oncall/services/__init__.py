"""Every on-call state change, one function per verb (see the modules)."""
