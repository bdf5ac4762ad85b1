telemetry {
  disable_hostname = true
}
telemetry {
  statsd_address = "localhost:8125"
}
