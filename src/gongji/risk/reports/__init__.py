"""Risk evidence rendered for the eye: the graph of who gave to whom, as SVG."""
