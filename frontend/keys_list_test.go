package frontend

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/app"
	"github.com/openlsc/openlsc/models"
)

func queryOf(t *testing.T, rawQuery string) keyQuery {
	t.Helper()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodGet, "/licences/V1/keys?"+rawQuery, nil)
	return parseKeyQuery(c)
}

// TestKeyListQuery: the keys table filters, sorts and pages on the server.
func TestKeyListQuery(t *testing.T) {
	var keys []app.KeyView
	for i := range 120 {
		k := app.KeyView{ID: int64(i + 1), Product: fmt.Sprintf("Product %03d", 119-i), ProductCode: "p", Type: "mak",
			Suffix: fmt.Sprintf("S%04d", i), Percent: i % 100, Status: models.KeyActive}
		if i%2 == 1 {
			k.Type = "kms"
		}
		if i == 7 {
			k.Status = models.KeyBlocked
		}
		keys = append(keys, k)
	}

	page, l := queryOf(t, "").apply("V1", keys)
	if len(page) != keysPageSize || l.Total != 120 || page[0].Product != "Product 000" || l.Prev != "" ||
		l.Next != "/licences/V1/keys?page=2#keys-heading" {
		t.Errorf("first page: %d keys from %q, %+v", len(page), page[0].Product, l)
	}
	page, l = queryOf(t, "page=9").apply("V1", keys)
	if l.Page != 3 || len(page) != 20 || l.First != 101 || l.Last != 120 || l.Next != "" {
		t.Errorf("page past the end: page %d, %d keys, %d-%d", l.Page, len(page), l.First, l.Last)
	}
	page, l = queryOf(t, "sort=usage").apply("V1", keys)
	if page[0].Percent != 99 || !strings.Contains(l.Next, "sort=usage") {
		t.Errorf("by usage: first %d%%, next %q", page[0].Percent, l.Next)
	}
	page, _ = queryOf(t, "sort=type").apply("V1", keys)
	if page[0].Type != "kms" {
		t.Errorf("by type: first %q", page[0].Type)
	}
	page, l = queryOf(t, "q=s0007").apply("V1", keys)
	if len(page) != 1 || page[0].ID != 8 || !l.Filtered || l.ClearURL != "/licences/V1/keys#keys-heading" {
		t.Errorf("filter by suffix: %+v %+v", page, l)
	}
	page, _ = queryOf(t, "status=blocked").apply("V1", keys)
	if len(page) != 1 || page[0].Status != models.KeyBlocked {
		t.Errorf("filter by status: %+v", page)
	}
	if q := queryOf(t, "status=evil&sort=evil&page=-3"); q.Status != "" || q.Sort != "product" || q.Page != 1 {
		t.Errorf("bad query kept: %+v", q)
	}
}

// TestKeysPageFilter: the keys page applies the query from its URL.
func TestKeysPageFilter(t *testing.T) {
	env := newKeysPageEnv(t)
	body := wantStatus(t, env.get(t, "/licences/V1/keys?q=92W3X", env.as("reader")), http.StatusOK)
	mustContain(t, body, `id="keys-q"`, `value="92W3X"`, "XXXXX-XXXXX-XXXXX-XXXXX-92W3X", "Keys 1 to 1 of 1")
	mustNotContain(t, body, "XXXXX-XXXXX-XXXXX-XXXXX-WFP4D")
	body = wantStatus(t, env.get(t, "/licences/V1/keys?q=nothing-like-it", env.as("reader"), "Accept-Language: ja"), http.StatusOK)
	mustContain(t, body, "該当するキーはありません。", `href="/licences/V1/keys#keys-heading"`)
	body = wantStatus(t, env.get(t, "/licences/V1/keys?sort=usage", env.as("reader")), http.StatusOK)
	if strings.Index(body, "WFP4D") > strings.Index(body, "92W3X") {
		t.Error("by usage, the nearly used-up MAK is not first")
	}
}
