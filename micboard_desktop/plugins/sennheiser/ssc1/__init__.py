"""Sennheiser SSCv1: JSON messages over UDP (EW-DX legacy mode, Digital 6000, SpeechLine DW).

sennheiser.md §3: ``address.py`` (``ssc1://`` addresses), ``frames.py`` (datagrams, caps,
errors), ``mapping.py`` (families, address trees, units), ``state.py`` (one device's
values), ``coordinator.py`` (subscriptions and liveness).
"""
