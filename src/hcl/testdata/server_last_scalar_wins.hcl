log_level = "debug"
ui = false
log_level = "warn"
ui = true
