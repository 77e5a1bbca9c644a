password = "Xq7!vR2@pL9m"
Authorization: Basic eyJhbGciOiJIUzI1NiJ9.eyJ4Ijox.abc
