-- Page someone for any privilege escalation, by its MITRE ATT&CK id.
vigil.response{
  name = "page-escalation",
  on = "proc.incident",
  match = { tags = "T1068" },
  actions = { "webhook:ops" },
}
