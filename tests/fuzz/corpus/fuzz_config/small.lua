log_level = "debug"
store_skip = { "proc.exit" }
webhooks = { ops = { url = "http://127.0.0.1:9/x" } }
plugins = { file = { fail_mode = "open" } }
