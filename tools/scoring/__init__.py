"""Red-flag scoring against cases labelled from the written definitions (``make score``)."""
