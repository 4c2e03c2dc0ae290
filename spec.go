// Package zhucun holds what the whole module shares at its root: the
// OpenAPI description that the server serves and the tests check routes against.
package zhucun

import _ "embed"

// OpenAPI is the contents of openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
