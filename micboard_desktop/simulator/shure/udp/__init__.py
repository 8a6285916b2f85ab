"""UHF-R receiver simulator (UR4S, UR4D): command strings over UDP, ``* ... *`` frames."""
