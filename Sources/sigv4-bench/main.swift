print("sigv4-bench: not built yet")
