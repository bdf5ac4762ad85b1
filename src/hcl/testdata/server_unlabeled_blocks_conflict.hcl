telemetry {
  disable_hostname = true
  statsd_address = "a:8125"
}
telemetry {
  statsd_address = "b:8125"
  dogstatsd_addr = "c:8125"
}
telemetry {
  prometheus_retention_time = "1h"
}
