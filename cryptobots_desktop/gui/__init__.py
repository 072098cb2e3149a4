"""The Qt window, tray and dialogs on top of the engine (qasync loop on the GUI thread)."""
