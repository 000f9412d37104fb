"""The desktop around the server: the app's own window and the system-wide hotkeys.

    window.py    the pywebview window on the app's page (a browser tab where no window can open)
    hotkeys.py   global stop / stop-all / push-to-talk hotkeys (X11), calling the same Runtime verbs as the page
"""
