vigil.rule{ group = "web", plane = "proc", name = "nginx", path = "/usr/sbin/nginx", user = "0" }
vigil.rule{ group = "web", plane = "net", direction = "egress", peer = "db", port = "5432", proto = "tcp", app = "postgresql" }
