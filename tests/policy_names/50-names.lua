-- A response rule whose event type is misspelt never fires: vigil-policy
-- check refuses it with the file, the line and the nearest type
-- (tests/CMakeLists.txt: policy/names).
vigil.response{
  name = "page-ops",
  on = "proc.incidnet",
  actions = { "webhook:ops" },
}
