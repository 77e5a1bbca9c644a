-- Loaded next to the shipped policy by `vigil-policy test`: incidents that
-- the tests expect to be switched off.
vigil.incidents{ group = "build", suspicious_process = false }
vigil.incidents{ group = "ci", reverse_shell = false, privilege_escalation = false }
-- A build group installs packages: writes below the program directories
-- and /etc are its job.
vigil.incidents{ group = "build", write_below_binary_dir = false, write_below_etc = false }
-- A group with every incident off, for the switch test.
vigil.incidents{ group = "quiet", suspicious_process = false, reverse_shell = false,
                 privilege_escalation = false, shell_from_service = false, terminal_shell = false,
                 container_drift = false, crypto_miner = false, sensitive_file_read = false,
                 sensitive_file_link = false, log_tampering = false,
                 write_below_binary_dir = false, write_below_etc = false,
                 write_kernel_settings = false, cgroup_release_agent = false,
                 mount_in_container = false, namespace_change = false,
                 chroot_in_container = false, kernel_module = false, ptrace_attach = false,
                 raw_socket = false, metadata_access = false, kubernetes_api_access = false }
