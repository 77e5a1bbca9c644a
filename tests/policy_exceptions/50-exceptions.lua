-- Tuning: the CI runners scan their test networks with nmap and ncat on
-- purpose; the web group's health check is known and need not alert.
vigil.exception{
  name = "ci scans its test network",
  incident = "suspicious_process",
  group = "ci-*",
  match = { name = { "nmap", "ncat" } },
}

vigil.exception{
  name = "health checks",
  type = "proc.violation",
  group = "web",
  match = { name = "healthcheck", path = "/usr/local/bin/*" },
}
