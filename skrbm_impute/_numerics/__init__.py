"""Pure numerical cores (NumPy / torch functions) that the estimator classes call."""
