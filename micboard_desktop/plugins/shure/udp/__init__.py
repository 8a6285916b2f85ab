"""UHF-R receivers (UR4S, UR4D) over UDP command strings, ``* ... *`` frames (shure.md §3.7)."""
