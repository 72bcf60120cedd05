"""The registry: performers, representatives, producers, productions, scan sessions, replica assets."""
