telemetry {
  prometheus_retention_time = "30s"
  disable_hostname = true
  usage_gauge_period = "10m"
}
service_registration "consul" {
  address = "127.0.0.1:8500"
  service_tags = "vault,primary"
}
