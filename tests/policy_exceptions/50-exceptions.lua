-- Tuning: the CI runners use ssh and scp on purpose; the web group's health
-- check is known and need not alert.
vigil.exception{
  name = "ci uses ssh",
  incident = "suspicious_process",
  group = "ci-*",
  match = { name = { "ssh", "scp" } },
}

vigil.exception{
  name = "health checks",
  type = "proc.violation",
  group = "web",
  match = { name = "healthcheck", path = "/usr/local/bin/*" },
}
