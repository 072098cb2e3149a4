"""The embedded paper exchange: real recorded Binance candles replayed, orders matched along their path."""

from .dataset import Dataset
from .exchange import PaperExchange
from .matching import MatchingEngine
from .replay_clock import ReplayClock

__all__ = ["Dataset", "MatchingEngine", "PaperExchange", "ReplayClock"]
