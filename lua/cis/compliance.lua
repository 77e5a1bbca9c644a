-- The compliance mapping: which controls of PCI DSS v4.0, GDPR, HIPAA (45 CFR
-- 164) and NIST SP 800-53 rev. 5 / SP 800-190 each kind of check provides
-- evidence for. Checks name an entry (check.compliance = "least-privilege");
-- nothing else in the tree maps checks to frameworks, so this one table is
-- what an auditor reviews. Keep entries about what a check shows, not about
-- the component it reads.
return {
  -- Daemon and kubelet settings that harden the runtime itself.
  ["runtime-config"] = {
    PCI = { "2.2.1", "2.2.6" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(c)(1)" },
    NIST = { "800-53: CM-6", "800-53: CM-7", "800-190: 4.4.3" },
  },
  -- Who may read or change the runtime's units, sockets and configuration.
  ["file-permissions"] = {
    PCI = { "7.2.1", "2.2.6" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(a)(1)" },
    NIST = { "800-53: AC-3", "800-53: AC-6", "800-190: 4.5.4", "800-190: 4.5.5" },
  },
  -- Credentials and keys on disk.
  ["key-protection"] = {
    PCI = { "3.6.1", "8.3.2" }, GDPR = { "Art. 32(1)(a)" }, HIPAA = { "164.312(a)(2)(iv)", "164.312(d)" },
    NIST = { "800-53: IA-5", "800-53: SC-12", "800-53: SC-28", "800-190: 4.5.4" },
  },
  -- Audit records of the runtime's binaries, files and the host's accounts.
  ["audit"] = {
    PCI = { "10.2.1", "10.2.2" }, GDPR = { "Art. 33(5)" }, HIPAA = { "164.312(b)" },
    NIST = { "800-53: AU-2", "800-53: AU-12", "800-190: 4.5.5" },
  },
  -- Logs kept and shipped off the host.
  ["logging"] = {
    PCI = { "10.2.1", "10.3.3" }, GDPR = { "Art. 33(5)" }, HIPAA = { "164.312(b)" },
    NIST = { "800-53: AU-4", "800-53: AU-9", "800-53: AU-6" },
  },
  -- Encryption and authentication of remote access to the runtime.
  ["transport-security"] = {
    PCI = { "4.2.1", "8.3.1" }, GDPR = { "Art. 32(1)(a)" }, HIPAA = { "164.312(e)(1)", "164.312(d)" },
    NIST = { "800-53: SC-8", "800-53: SC-13", "800-53: IA-2", "800-190: 4.3.2" },
  },
  -- Who may ask the runtime or the kubelet to do what.
  ["access-control"] = {
    PCI = { "7.2.1", "8.3.1" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(a)(1)", "164.312(d)" },
    NIST = { "800-53: AC-3", "800-53: IA-2", "800-190: 4.3.1", "800-190: 4.3.2" },
  },
  -- Traffic between containers and from the outside.
  ["network-segmentation"] = {
    PCI = { "1.3.1", "1.4.1" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(e)(1)" },
    NIST = { "800-53: SC-7", "800-190: 4.3.3", "800-190: 4.4.2" },
  },
  -- A container gets no more privilege than its job needs.
  ["least-privilege"] = {
    PCI = { "2.2.6", "7.2.1" }, GDPR = { "Art. 25(1)" }, HIPAA = { "164.312(a)(1)" },
    NIST = { "800-53: AC-6", "800-190: 4.4.3" },
  },
  -- A container stays apart from the host and from other containers.
  ["isolation"] = {
    PCI = { "2.2.3" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(a)(1)" },
    NIST = { "800-53: SC-39", "800-53: AC-6", "800-190: 4.4.3", "800-190: 4.5.2" },
  },
  -- Kernel confinement: AppArmor, SELinux, seccomp.
  ["mandatory-access-control"] = {
    PCI = { "2.2.6" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.308(a)(5)(ii)(B)" },
    NIST = { "800-53: AC-3(3)", "800-53: CM-7", "800-53: SC-39", "800-190: 4.5.2" },
  },
  -- Memory, CPU and process limits: one container cannot starve the rest.
  ["resource-limits"] = {
    PCI = { "2.2.6" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.308(a)(7)" },
    NIST = { "800-53: SC-5", "800-53: SC-6", "800-190: 4.4.3" },
  },
  -- The container's filesystem cannot be changed at run time.
  ["integrity"] = {
    PCI = { "11.5.2" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(c)(1)" },
    NIST = { "800-53: SI-7", "800-53: CM-5", "800-190: 4.4.3" },
  },
  -- What an image runs as and carries.
  ["image-config"] = {
    PCI = { "2.2.1", "2.2.4" }, GDPR = { "Art. 25(1)" }, HIPAA = { "164.312(c)(1)" },
    NIST = { "800-53: CM-2", "800-53: CM-6", "800-190: 4.1.2" },
  },
  -- Only the software the service needs (no sshd, no setuid helpers).
  ["minimal-software"] = {
    PCI = { "2.2.4" }, GDPR = { "Art. 25(1)" }, HIPAA = { "164.308(a)(5)(ii)(B)" },
    NIST = { "800-53: CM-7", "800-190: 4.1.2", "800-190: 4.5.1" },
  },
  -- Secrets never baked into images or environment variables.
  ["secrets"] = {
    PCI = { "8.6.2", "3.5.1" }, GDPR = { "Art. 32(1)(a)" }, HIPAA = { "164.312(a)(2)(iv)" },
    NIST = { "800-53: IA-5(7)", "800-53: SC-28", "800-190: 4.1.4" },
  },
  -- Images rebuilt with current packages.
  ["patching"] = {
    PCI = { "6.3.3" }, GDPR = { "Art. 32(1)(d)" }, HIPAA = { "164.308(a)(5)(ii)(B)" },
    NIST = { "800-53: SI-2", "800-190: 4.1.1" },
  },
  -- Health known and failures recovered.
  ["availability"] = {
    PCI = { "10.7.2" }, GDPR = { "Art. 32(1)(c)" }, HIPAA = { "164.308(a)(7)" },
    NIST = { "800-53: CP-10", "800-53: SI-4", "800-190: 4.4.3" },
  },
  -- Kernel parameters of the host (network stack, memory layout).
  ["host-hardening"] = {
    PCI = { "2.2.6", "1.4.2" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(c)(1)" },
    NIST = { "800-53: CM-6", "800-53: SC-7", "800-190: 4.5.1" },
  },
  -- Local accounts and their password files.
  ["accounts"] = {
    PCI = { "8.2.1", "8.3.1" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(a)(2)(i)", "164.312(d)" },
    NIST = { "800-53: AC-2", "800-53: IA-5", "800-190: 4.5.4" },
  },
  -- Remote administration of the host.
  ["remote-admin"] = {
    PCI = { "2.2.7", "8.2.2" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(d)", "164.312(e)(1)" },
    NIST = { "800-53: AC-17", "800-53: IA-2", "800-190: 4.5.4" },
  },
}
