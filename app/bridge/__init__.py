"""The local WebSocket bridge between Marketdesk and its browser plugin (Vinted jobs).

``protocol`` holds the rules as pure functions, ``server`` moves frames, ``config`` keeps
the port, allowed origins and pairing token; the contract with the plugin is
``docs/bridge-protocol.md``.
"""
