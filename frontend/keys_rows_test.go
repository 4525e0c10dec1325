package frontend

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

// rowKeys answers the keys page with one key of every kind a row shows
// differently.
type rowKeys struct{ KeysUseCases }

func (rowKeys) FilteredPage(context.Context, int64, int64, app.KeyListQuery) (*app.KeyList, error) {
	n := func(v int64) *int64 { return &v }
	at := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	keys := []app.KeyView{
		{ID: 1, Product: "Office <LTSC>", Type: models.KeyTypeMAK, MaskedKey: "XXXXX-XXXXX-XXXXX-XXXXX-AAAAA", Suffix: "AAAAA",
			ActivationsUsed: n(1200), ActivationLimit: n(5000), ActivationsAsOf: &at, Percent: 24, Status: models.KeyActive},
		{ID: 2, Product: "P2", Type: models.KeyTypeMAK, MaskedKey: "XXXXX-XXXXX-XXXXX-XXXXX-BBBBB", Suffix: "BBBBB",
			ActivationsUsed: n(500), ActivationLimit: n(500), Percent: 100, UsedUp: true, LimitReached: true, Status: models.KeyActive},
		{ID: 3, Product: "P3", Type: models.KeyTypeMAK, MaskedKey: "XXXXX-XXXXX-XXXXX-XXXXX-CCCCC", Suffix: "CCCCC",
			ActivationsUsed: n(500), ActivationLimit: n(500), Percent: 100, UsedUp: true, Status: models.KeyRetired, Replaces: "XXXXX-XXXXX-XXXXX-XXXXX-ZZZZZ"},
		{ID: 4, Product: "P4", Type: models.KeyTypeMAK, MaskedKey: "XXXXX-XXXXX-XXXXX-XXXXX-DDDDD", Suffix: "DDDDD",
			ActivationsUsed: n(480), ActivationLimit: n(500), Percent: 96, NearlyUsedUp: true, Status: models.KeyActive},
		{ID: 5, Product: "P5", Type: models.KeyTypeMAK, MaskedKey: "XXXXX-XXXXX-XXXXX-XXXXX-EEEEE", Suffix: "EEEEE", Status: models.KeyBlocked, BlockReason: "leaked"},
		{ID: 6, Product: "P6", Type: "kms", MaskedKey: "XXXXX-XXXXX-XXXXX-XXXXX-FFFFF", Suffix: "FFFFF", Status: models.KeyActive},
		{ID: 7, Product: "P7", Type: "retail", MaskedKey: "XXXXX-XXXXX-XXXXX-XXXXX-GGGGG", Suffix: "GGGGG", Status: models.KeyActive},
	}
	return &app.KeyList{Keys: keys, Total: len(keys), Page: 1, AnyKeys: true, HasMAK: true}, nil
}

func (rowKeys) MyActivationRequests(context.Context, int64) ([]app.ActivationView, error) {
	return nil, nil
}

// TestKeyRows checks what each kind of key shows in its row, now that the
// rows' texts are localized in Go (keyRows) rather than in the template.
func TestKeyRows(t *testing.T) {
	s := newTestServer(t, Options{})
	h := keysPage{ui: s.ui, k: rowKeys{}}
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest(http.MethodGet, "/licences/E1/keys", nil)
	c.Params = gin.Params{{Key: "licence", Value: "E1"}}
	h.show(c)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d\n%s", rec.Code, rec.Body)
	}
	mustContain(t, rec.Body.String(),
		// a MAK with counts as of a time, escaped product, reveal form
		`<th scope="row">Office &lt;LTSC&gt;</th>`, `<td>MAK (Multiple Activation Key)</td>`,
		`<code aria-label="Key ending in AAAAA, the rest hidden">XXXXX-XXXXX-XXXXX-XXXXX-AAAAA</code></td>`,
		`<meter id="usage-1" min="0" max="100" low="79.5" high="94.5" optimum="0" value="24" aria-describedby="usage-text-1">24%</meter>`,
		`<p id="usage-text-1">1,200 of 5,000 activations used (as of 2 January 2026, 03:04 UTC)</p>`,
		`<a href="/licences/E1/keys/1/installations" aria-label="Installations and telephone activation of the key ending in AAAAA">Installations and telephone activation</a>`,
		`<form method="post" action="/licences/E1/keys/1/reveal" class="inline-form">`,
		`<button type="submit" aria-label="Reveal the Office &lt;LTSC&gt; key ending in AAAAA">Reveal</button>`,
		// limit reached: a link to ask for more
		`<p id="usage-text-2">500 of 500 activations used</p>`,
		`<a href="/licences/E1/keys?suffix=BBBBB#activation-requests">Request more activations</a>`,
		// retired, replacing another key, used up
		`<strong class="badge badge-warn key-status">Retired</strong> <span class="hint key-replaces">Replaces XXXXX-XXXXX-XXXXX-XXXXX-ZZZZZ</span>`,
		`<p class="field-error"><strong>All activations are used: request more activations below.</strong></p>`,
		// nearly used up
		`<p class="badge badge-warn">Nearly used up: 20 left</p>`,
		// blocked: why, and no reveal
		`<strong class="badge badge-warn key-status">Blocked</strong>`,
		`<p class="hint">This key is blocked (the key was published or offered for sale): it is no longer shown, and no more activations can be requested for it.</p>`,
		// a MAK without counts, a KMS host key and another type
		`Activation counts not known yet`, `<td>KMS host key</td>`, `<td>retail</td>`, `<span class="hint">No activation limit</span>`,
	)
	mustNotContain(t, rec.Body.String(), `action="/licences/E1/keys/5/reveal"`)
}
