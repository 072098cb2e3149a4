"""Pure domain: markets, orders, balances, errors and the ports the outside world implements."""
