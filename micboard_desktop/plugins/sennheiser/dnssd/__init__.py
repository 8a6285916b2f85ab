"""DNS-SD (mDNS) discovery of SSCv1 devices: ``_ssc._udp`` services (sennheiser.md §3.1)."""
