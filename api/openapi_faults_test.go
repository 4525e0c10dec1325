package api_test

import (
	"strings"
	"testing"
)

// TestOpenAPIDocumentsFaults: every operation that touches the database
// documents 503 with Retry-After, every operation with a body documents
// 413, and the rate-limited routes document 429 with Retry-After.
func TestOpenAPIDocumentsFaults(t *testing.T) {
	_, tree := loadOpenAPI(t)
	root := tree.(map[string]any)
	components := root["components"].(map[string]any)["responses"].(map[string]any)
	// response resolves a response object or its $ref.
	response := func(r any) map[string]any {
		m, _ := r.(map[string]any)
		if ref, ok := m["$ref"].(string); ok {
			m, _ = components[strings.TrimPrefix(ref, "#/components/responses/")].(map[string]any)
		}
		return m
	}
	hasRetryAfter := func(r map[string]any) bool {
		h, _ := r["headers"].(map[string]any)
		_, ok := h["Retry-After"]
		return ok
	}
	rateLimited := map[string]bool{
		"get /auth/login": true, "get /auth/callback": true, "put /api/v1/me/work-email": true,
		"post /api/v1/me/work-email/verify": true, "post /api/v1/access-requests": true,
	}
	for path, item := range root["paths"].(map[string]any) {
		for method, o := range item.(map[string]any) {
			op, ok := o.(map[string]any)
			if !ok {
				continue
			}
			responses := op["responses"].(map[string]any)
			name := method + " " + path
			if path != "/healthz" && path != "/api/openapi.json" {
				if r := response(responses["503"]); r == nil || !hasRetryAfter(r) && path != "/readyz" {
					t.Errorf("%s: no 503 with Retry-After", name)
				}
			}
			if _, body := op["requestBody"]; body && response(responses["413"]) == nil {
				t.Errorf("%s takes a body but documents no 413", name)
			}
			if rateLimited[name] {
				if r := response(responses["429"]); r == nil || !hasRetryAfter(r) {
					t.Errorf("%s: no 429 with Retry-After", name)
				}
				delete(rateLimited, name)
			}
		}
	}
	for name := range rateLimited {
		t.Errorf("rate-limited route %s is not documented", name)
	}
}
