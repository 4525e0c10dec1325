package frontend

import (
	"encoding/json"
	"testing"
)

// TestAuditDetails checks that known detail keys and values get message
// IDs and that others are shown as they are.
func TestAuditDetails(t *testing.T) {
	got := auditDetails(map[string]any{
		"permission": "key_reader", "source": "direct", "inherit": true, "size": json.Number("42"),
		"mystery": map[string]any{"a": 1}, "email": "x@contoso.example",
	})
	want := []auditDetail{
		{Key: "email", LabelID: "audit.detail.email", Value: "x@contoso.example"},
		{Key: "inherit", LabelID: "audit.detail.inherit", Value: "true", ValueID: "audit.value.yes"},
		{Key: "mystery", Value: `{"a":1}`},
		{Key: "permission", LabelID: "audit.detail.permission", Value: "key_reader", ValueID: "permission.key_reader"},
		{Key: "size", LabelID: "audit.detail.size", Value: "42"},
		{Key: "source", LabelID: "audit.detail.source", Value: "direct", ValueID: "users.source.direct"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("detail %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
