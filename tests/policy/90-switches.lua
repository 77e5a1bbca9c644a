-- Loaded next to the shipped policy by `vigil-policy test`: incidents that
-- the tests expect to be switched off.
vigil.incidents{ group = "build", suspicious_process = false }
vigil.incidents{ group = "ci", reverse_shell = false, privilege_escalation = false }
