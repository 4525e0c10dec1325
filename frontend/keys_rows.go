package frontend

import (
	"net/url"
	"strconv"

	"github.com/openlsc/openlsc/app"
)

// keyRow is one row of the keys table: the key and its texts and links,
// localized and built in Go so that the template prints fields instead
// of calling t, num and methods several times per row.
type keyRow struct {
	ID                     int64
	Product, MaskedKey     string
	Percent                int
	MAK, HasLimit, Blocked bool
	LimitReached, UsedUp   bool
	NearlyUsedUp           bool
	TypeLabel              string // MAK, KMS host key, or the type as stored
	MaskedLabel            string // the masked key read aloud
	StatusLabel            string // the status of a key that is not active, else ""
	ReplacesLabel          string // "replaces …", or ""
	UsageText              string // activations used of the limit (MAK with a limit)
	RemainingText          string // nearly used up: how many are left
	RequestURL             string // ask for more activations (limit reached)
	InstallURL             string
	InstallLabel           string
	RevealURL              string
	RevealLabel            string
	BlockedText            string // why a blocked key is blocked
}

// keyRows builds the rows of keys, shown on the keys page of licence (the
// number, as in the URL), in the language of text.
func keyRows(text *pageText, licence string, keys []app.KeyView) []keyRow {
	rows := make([]keyRow, 0, len(keys))
	base := "/licences/" + licence + "/keys"
	for _, k := range keys {
		id := strconv.FormatInt(k.ID, 10)
		r := keyRow{ID: k.ID, Product: k.Product, MaskedKey: k.MaskedKey, Percent: k.Percent,
			MAK: k.MAK(), HasLimit: k.ActivationLimit != nil, Blocked: k.Blocked(),
			LimitReached: k.LimitReached, UsedUp: k.UsedUp, NearlyUsedUp: k.NearlyUsedUp,
			MaskedLabel: text.format("keys.masked_label", "Suffix", k.Suffix)}
		switch {
		case r.MAK:
			r.TypeLabel = text.get("keys.type.mak")
		case k.Type == "kms":
			r.TypeLabel = text.get("keys.type.kms")
		default:
			r.TypeLabel = k.Type
		}
		if !k.Active() {
			r.StatusLabel = text.get("keys.status." + string(k.Status))
		}
		if k.Replaces != "" {
			r.ReplacesLabel = text.format("keys.replaces", "Key", k.Replaces)
		}
		if r.MAK {
			r.keyUsage(text, k, base)
			r.InstallURL = base + "/" + id + "/installations"
			r.InstallLabel = text.format("installations.link_label", "Suffix", k.Suffix)
		}
		if r.Blocked {
			r.BlockedText = text.format("keys.blocked_hint", "Reason", text.get("keys.reason."+string(k.BlockReason)))
		} else {
			r.RevealURL = base + "/" + id + "/reveal"
			r.RevealLabel = text.format("keys.reveal_label", "Product", k.Product, "Suffix", k.Suffix)
		}
		rows = append(rows, r)
	}
	return rows
}

// keyUsage fills in the activation texts of the MAK k.
func (r *keyRow) keyUsage(text *pageText, k app.KeyView, base string) {
	if !r.HasLimit {
		return
	}
	used, limit := text.num(k.Used()), text.num(k.Limit())
	if k.ActivationsAsOf != nil {
		r.UsageText = text.format("keys.usage_as_of", "Used", used, "Limit", limit, "Time", text.datetime(*k.ActivationsAsOf))
	} else {
		r.UsageText = text.format("keys.usage", "Used", used, "Limit", limit)
	}
	switch {
	case r.LimitReached:
		r.RequestURL = base + "?suffix=" + url.QueryEscape(k.Suffix) + "#activation-requests"
	case r.UsedUp: // no request link (its limit was not reached), nothing remaining
	case r.NearlyUsedUp:
		r.RemainingText = text.format("keys.nearly_used_up", "Remaining", text.num(k.Remaining()))
	}
}
