"""Pure strategy math shared by the engine, the new-bot dialog and the headless backtest: DCA and grid."""
