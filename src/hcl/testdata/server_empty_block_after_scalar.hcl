mode = "fast"
mode {}
