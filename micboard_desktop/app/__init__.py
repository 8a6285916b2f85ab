"""The composition root: the one package that wires the layers into a running app.

``window`` (the Qt application), ``headless`` and ``poll --once``, the ``status`` and
``simulate`` commands, the demo rig, the LAN server's lifecycle and the window's settings
file. :mod:`~micboard_desktop.app.startup` is the shared part: it opens the database, builds
the engine, starts the demo rig and turns start-up faults into one-line errors.
``cli.py`` parses the command line and calls into here; nothing else imports this package.
"""
