"""Small local servers answering each exchange's "what may this key do" request.

One aiohttp server on 127.0.0.1 (``server.ProbeServer``) serves every exchange under its own prefix
(``http://127.0.0.1:PORT/<exchange_id>``, the ``api_url`` handed to the probe), one module per exchange
(``binance.py``, ``okx.py``...). Each checks the request is signed the way that exchange signs (key
header, signature recomputed from the secret, passphrase, timestamp) and answers with the exchange's
documented response shape, or one of its variants, or the exchange's own error body.
"""
