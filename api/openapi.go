package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDocument is the OpenAPI 3.1 description of every route of the
// JSON API (and of /auth, /healthz and /readyz). openapi_test.go checks it
// against the routes the server registers.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI 3.1 document of the API, as served at
// GET /api/openapi.json. The caller must not modify it.
func OpenAPIDocument() []byte { return openAPIDocument }

// ServeOpenAPI answers GET /api/openapi.json with the OpenAPI document.
// It needs no sign-in; register it on the engine:
//
//	e.GET("/api/openapi.json", ServeOpenAPI)
func ServeOpenAPI(c *gin.Context) {
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "application/json", openAPIDocument)
}
