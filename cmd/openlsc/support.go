package main

import (
	"encoding/json"
	"fmt"

	"github.com/openlsc/openlsc/frontend"
)

// supportEnv names the variable that holds the help page's support
// contacts: a JSON array of objects with name, and optionally language
// ("en" or "ja"), region, email, phone and hours, for example
//
//	[{"language":"ja","region":"日本","name":"OpenLSC サポート","email":"support@example.jp","phone":"+81 3-0000-0000","hours":"平日 9:00–17:00"}]
const supportEnv = "OPENLSC_SUPPORT_CONTACTS"

// devSupportContacts are shown in development mode when none are set.
var devSupportContacts = []frontend.SupportContact{
	{Language: "en", Name: "OpenLSC demo support", Email: "support@openlsc.example", Phone: "+1 555 0100", Hours: "Monday to Friday, 9:00–17:00 UTC"},
	{Language: "ja", Region: "日本", Name: "OpenLSC デモ サポート", Email: "support-ja@openlsc.example", Phone: "03-0000-0000", Hours: "平日 9:00～17:00 (日本時間)"},
}

// supportContacts reads the support contacts from the environment.
func supportContacts(getenv func(string) string, dev bool) ([]frontend.SupportContact, error) {
	raw := getenv(supportEnv)
	if raw == "" {
		if dev {
			return devSupportContacts, nil
		}
		return nil, nil
	}
	var cs []frontend.SupportContact
	if err := json.Unmarshal([]byte(raw), &cs); err != nil {
		return nil, fmt.Errorf("%s: %w", supportEnv, err)
	}
	for i, c := range cs {
		if c.Name == "" {
			return nil, fmt.Errorf("%s: contact %d has no name", supportEnv, i+1)
		}
		if c.Language != "" && c.Language != "en" && c.Language != "ja" {
			return nil, fmt.Errorf("%s: contact %q: language %q is not en or ja", supportEnv, c.Name, c.Language)
		}
	}
	return cs, nil
}
