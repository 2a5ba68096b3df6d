"""The ads v3 wire (``/ads/v3/``): one module per resource group."""
