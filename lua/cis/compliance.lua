-- The compliance mapping: which controls of PCI DSS v4.0, GDPR, HIPAA (45 CFR
-- 164) and NIST SP 800-53 rev. 5 / SP 800-190 each kind of check provides
-- evidence for. Checks name an entry (check.compliance = "least-privilege");
-- nothing else in the tree maps checks to frameworks, so this one table is
-- what an auditor reviews. Keep entries about what a check shows, not about
-- the component it reads.
--
-- Where each mapping comes from (an entry's `source`):
--  * NIST SP 800-190: the risk of section 4 the check's recommendation
--    counters, by the document's own numbering (4.1.x images, 4.2.x
--    registries, 4.3.x orchestrators, 4.4.x containers, 4.5.x host OS), and
--    the countermeasure of section 5 for it.
--  * NIST SP 800-53 rev. 5, PCI DSS v4.0, HIPAA (45 CFR 164.308/312) and
--    GDPR (Art. 25, 32, 33): vigil's reading of each control's or
--    requirement's text against what the check shows. No published
--    crosswalk from the CIS Docker or Kubernetes benchmarks to these
--    frameworks was used (CIS maps its benchmarks to the CIS Controls v8
--    only); a reviewer compares each line with the cited text.
-- `source` is documentation, never a tag: lib.lua skips it.
return {
  -- Daemon and kubelet settings that harden the runtime itself.
  ["runtime-config"] = {
    source = "800-190 4.4.3 (insecure container runtime configurations); 800-53 CM-6/CM-7 configuration settings "
        .. "and least functionality; PCI 2.2.1/2.2.6 configuration standards and security parameters",
    PCI = { "2.2.1", "2.2.6" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(c)(1)" },
    NIST = { "800-53: CM-6", "800-53: CM-7", "800-190: 4.4.3" },
  },
  -- Who may read or change the runtime's units, sockets and configuration.
  ["file-permissions"] = {
    source = "800-190 4.5.4 (improper user access rights) and 4.5.5 (host file system tampering); 800-53 "
        .. "AC-3/AC-6; PCI 7.2.1 access by need",
    PCI = { "7.2.1", "2.2.6" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(a)(1)" },
    NIST = { "800-53: AC-3", "800-53: AC-6", "800-190: 4.5.4", "800-190: 4.5.5" },
  },
  -- Credentials and keys on disk.
  ["key-protection"] = {
    source = "800-190 4.5.4; 800-53 IA-5/SC-12/SC-28 authenticators, keys, data at rest; PCI 3.6.1 key protection, "
        .. "8.3.2 authentication factors protected",
    PCI = { "3.6.1", "8.3.2" }, GDPR = { "Art. 32(1)(a)" }, HIPAA = { "164.312(a)(2)(iv)", "164.312(d)" },
    NIST = { "800-53: IA-5", "800-53: SC-12", "800-53: SC-28", "800-190: 4.5.4" },
  },
  -- Audit records of the runtime's binaries, files and the host's accounts.
  ["audit"] = {
    source = "800-190 4.5.5 (tampering must be seen); 800-53 AU-2/AU-12 event logging; PCI 10.2.1/10.2.2 audit "
        .. "logs; HIPAA 164.312(b) audit controls",
    PCI = { "10.2.1", "10.2.2" }, GDPR = { "Art. 33(5)" }, HIPAA = { "164.312(b)" },
    NIST = { "800-53: AU-2", "800-53: AU-12", "800-190: 4.5.5" },
  },
  -- Logs kept and shipped off the host.
  ["logging"] = {
    source = "800-53 AU-4/AU-6/AU-9 log storage, review, protection; PCI 10.2.1, 10.3.3 logs copied to a central "
        .. "server; HIPAA 164.312(b)",
    PCI = { "10.2.1", "10.3.3" }, GDPR = { "Art. 33(5)" }, HIPAA = { "164.312(b)" },
    NIST = { "800-53: AU-4", "800-53: AU-9", "800-53: AU-6" },
  },
  -- Encryption and authentication of remote access to the runtime.
  ["transport-security"] = {
    source = "800-190 4.2.1 (insecure connections to registries) and 4.3.2 (unauthorized access); 800-53 "
        .. "SC-8/SC-13/IA-2; PCI 4.2.1 strong cryptography in transit; HIPAA 164.312(e)(1) transmission security",
    PCI = { "4.2.1", "8.3.1" }, GDPR = { "Art. 32(1)(a)" }, HIPAA = { "164.312(e)(1)", "164.312(d)" },
    NIST = { "800-53: SC-8", "800-53: SC-13", "800-53: IA-2", "800-190: 4.2.1", "800-190: 4.3.2" },
  },
  -- Who may ask the runtime or the kubelet to do what.
  ["access-control"] = {
    source = "800-190 4.3.1 (unbounded administrative access), 4.3.2; 800-53 AC-3/IA-2; PCI 7.2.1, 8.3.1; HIPAA "
        .. "164.312(a)(1), 164.312(d)",
    PCI = { "7.2.1", "8.3.1" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(a)(1)", "164.312(d)" },
    NIST = { "800-53: AC-3", "800-53: IA-2", "800-190: 4.3.1", "800-190: 4.3.2" },
  },
  -- Traffic between containers and from the outside.
  ["network-segmentation"] = {
    source = "800-190 4.3.3 (poorly separated inter-container traffic), 4.4.2 (unbounded network access from "
        .. "containers); 800-53 SC-7 boundary protection; PCI 1.3.1, 1.4.1 network security controls",
    PCI = { "1.3.1", "1.4.1" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(e)(1)" },
    NIST = { "800-53: SC-7", "800-190: 4.3.3", "800-190: 4.4.2" },
  },
  -- A container gets no more privilege than its job needs.
  ["least-privilege"] = {
    source = "800-190 4.4.3; 800-53 AC-6 least privilege; PCI 2.2.6, 7.2.1; GDPR Art. 25(1) data protection by design",
    PCI = { "2.2.6", "7.2.1" }, GDPR = { "Art. 25(1)" }, HIPAA = { "164.312(a)(1)" },
    NIST = { "800-53: AC-6", "800-190: 4.4.3" },
  },
  -- A container stays apart from the host and from other containers.
  ["isolation"] = {
    source = "800-190 4.4.3 and 4.5.2 (shared kernel); 800-53 SC-39 process isolation, AC-6; PCI 2.2.3 one primary "
        .. "function per component",
    PCI = { "2.2.3" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(a)(1)" },
    NIST = { "800-53: SC-39", "800-53: AC-6", "800-190: 4.4.3", "800-190: 4.5.2" },
  },
  -- Kernel confinement: AppArmor, SELinux, seccomp.
  ["mandatory-access-control"] = {
    source = "800-190 4.5.2 and its countermeasure (MAC such as SELinux, AppArmor, seccomp); 800-53 AC-3(3) "
        .. "mandatory access control, CM-7, SC-39",
    PCI = { "2.2.6" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.308(a)(5)(ii)(B)" },
    NIST = { "800-53: AC-3(3)", "800-53: CM-7", "800-53: SC-39", "800-190: 4.5.2" },
  },
  -- Memory, CPU and process limits: one container cannot starve the rest.
  ["resource-limits"] = {
    source = "800-190 4.4.3; 800-53 SC-5 denial-of-service protection, SC-6 resource availability; HIPAA "
        .. "164.308(a)(7) contingency",
    PCI = { "2.2.6" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.308(a)(7)" },
    NIST = { "800-53: SC-5", "800-53: SC-6", "800-190: 4.4.3" },
  },
  -- The container's filesystem cannot be changed at run time.
  ["integrity"] = {
    source = "800-190 4.4.3 (read-only root filesystems) ; 800-53 SI-7 software integrity, CM-5; PCI 11.5.2 change "
        .. "detection; HIPAA 164.312(c)(1) integrity",
    PCI = { "11.5.2" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(c)(1)" },
    NIST = { "800-53: SI-7", "800-53: CM-5", "800-190: 4.4.3" },
  },
  -- What an image runs as and carries.
  ["image-config"] = {
    source = "800-190 4.1.2 (image configuration defects); 800-53 CM-2/CM-6 baseline and settings; PCI 2.2.1, 2.2.4",
    PCI = { "2.2.1", "2.2.4" }, GDPR = { "Art. 25(1)" }, HIPAA = { "164.312(c)(1)" },
    NIST = { "800-53: CM-2", "800-53: CM-6", "800-190: 4.1.2" },
  },
  -- Images verified before they run (content trust, signatures).
  ["trusted-images"] = {
    source = "800-190 4.1.5 (use of untrusted images) and 4.2.x; 800-53 SI-7 integrity, CM-14 signed components; "
        .. "HIPAA 164.312(c)(1); PCI 2.2.1 only as industry-accepted hardening (the CIS benchmark itself): no "
        .. "PCI requirement names image signing",
    PCI = { "2.2.1" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(c)(1)" },
    NIST = { "800-53: SI-7", "800-53: CM-14", "800-190: 4.1.5" },
  },
  -- Only the software the service needs (no sshd, no setuid helpers).
  ["minimal-software"] = {
    source = "800-190 4.1.2 and 4.5.1 (large attack surface); 800-53 CM-7 least functionality; PCI 2.2.4 only "
        .. "necessary services",
    PCI = { "2.2.4" }, GDPR = { "Art. 25(1)" }, HIPAA = { "164.308(a)(5)(ii)(B)" },
    NIST = { "800-53: CM-7", "800-190: 4.1.2", "800-190: 4.5.1" },
  },
  -- Secrets never baked into images or environment variables.
  ["secrets"] = {
    source = "800-190 4.1.4 (embedded clear text secrets); 800-53 IA-5(7) no embedded authenticators, SC-28; PCI "
        .. "8.6.2 no hard-coded passwords, 3.5.1",
    PCI = { "8.6.2", "3.5.1" }, GDPR = { "Art. 32(1)(a)" }, HIPAA = { "164.312(a)(2)(iv)" },
    NIST = { "800-53: IA-5(7)", "800-53: SC-28", "800-190: 4.1.4" },
  },
  -- Images rebuilt with current packages.
  ["patching"] = {
    source = "800-190 4.1.1 (image vulnerabilities); 800-53 SI-2 flaw remediation; PCI 6.3.3 patches installed",
    PCI = { "6.3.3" }, GDPR = { "Art. 32(1)(d)" }, HIPAA = { "164.308(a)(5)(ii)(B)" },
    NIST = { "800-53: SI-2", "800-190: 4.1.1" },
  },
  -- Health known and failures recovered.
  ["availability"] = {
    source = "800-190 4.4.3; 800-53 CP-10 recovery, SI-4 monitoring; GDPR Art. 32(1)(c) restore availability; "
        .. "HIPAA 164.308(a)(7)",
    PCI = { "10.7.2" }, GDPR = { "Art. 32(1)(c)" }, HIPAA = { "164.308(a)(7)" },
    NIST = { "800-53: CP-10", "800-53: SI-4", "800-190: 4.4.3" },
  },
  -- Kernel parameters of the host (network stack, memory layout).
  ["host-hardening"] = {
    source = "800-190 4.5.1; 800-53 CM-6, SC-7; PCI 2.2.6 security parameters, 1.4.2",
    PCI = { "2.2.6", "1.4.2" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(c)(1)" },
    NIST = { "800-53: CM-6", "800-53: SC-7", "800-190: 4.5.1" },
  },
  -- Local accounts and their password files.
  ["accounts"] = {
    source = "800-190 4.5.4; 800-53 AC-2 account management, IA-5; PCI 8.2.1, 8.3.1; HIPAA 164.312(a)(2)(i) unique "
        .. "user identification",
    PCI = { "8.2.1", "8.3.1" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(a)(2)(i)", "164.312(d)" },
    NIST = { "800-53: AC-2", "800-53: IA-5", "800-190: 4.5.4" },
  },
  -- Remote administration of the host.
  ["remote-admin"] = {
    source = "800-190 4.5.4; 800-53 AC-17 remote access, IA-2; PCI 2.2.7 encrypted non-console admin access, 8.2.2",
    PCI = { "2.2.7", "8.2.2" }, GDPR = { "Art. 32(1)(b)" }, HIPAA = { "164.312(d)", "164.312(e)(1)" },
    NIST = { "800-53: AC-17", "800-53: IA-2", "800-190: 4.5.4" },
  },
}
