package frontend

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/openlsc/openlsc/models"
)

// auditDetailKeys are the detail keys the audit page names in the page's
// language (message audit.detail.<key>); others are shown as they are.
var auditDetailKeys = []string{
	"permission", "permissions", "granted_permissions", "source", "user_id", "from_user_id", "requester_id", "inherit",
	"email", "work_email", "invitation_id", "token_id", "name", "expires_at", "key_id", "key_ids", "suffix",
	"request_id", "license_number", "quantity", "reason", "decision_message", "status", "activation_limit",
	"file", "size",
}

// auditDetail is one detail of an event, as the audit page shows it.
type auditDetail struct {
	Key     string
	LabelID string // message ID naming the key; "" to show Key
	Value   string
	ValueID string // message ID naming the value; "" to show Value
}

// auditDetails lists an event's details sorted by key, naming the keys and
// the values it knows (permissions, sources, yes and no).
func auditDetails(d map[string]any) []auditDetail {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]auditDetail, 0, len(keys))
	for _, k := range keys {
		det := auditDetail{Key: k, Value: detailValue(d[k])}
		if slices.Contains(auditDetailKeys, k) {
			det.LabelID = "audit.detail." + k
		}
		switch v := d[k].(type) {
		case bool:
			det.ValueID = "audit.value.no"
			if v {
				det.ValueID = "audit.value.yes"
			}
		case string:
			if k == "permission" && models.Permission(v).Valid() {
				det.ValueID = "permission." + v
			}
			if k == "source" && slices.Contains([]string{"direct", "contact", "inherited"}, v) {
				det.ValueID = "users.source." + v
			}
		}
		out = append(out, det)
	}
	return out
}

// detailValue writes one detail value: strings and numbers as they are,
// anything else as compact JSON.
func detailValue(x any) string {
	switch v := x.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	j, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprint(x)
	}
	return strings.TrimSpace(string(j))
}
