package frontend

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func queryOf(t *testing.T, rawQuery string) keyQuery {
	t.Helper()
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodGet, "/licences/V1/keys?"+rawQuery, nil)
	return parseKeyQuery(c)
}

// TestKeyListQuery: the keys table's query from the URL, and the links
// and counts of its pages (the application filters, sorts and pages, see
// app's TestKeysFilteredPage).
func TestKeyListQuery(t *testing.T) {
	l := queryOf(t, "").list("V1", 120)
	if l.Total != 120 || l.First != 1 || l.Last != keysPageSize || l.Prev != "" || l.Next != "/licences/V1/keys?page=2#keys-heading" {
		t.Errorf("first page: %+v", l)
	}
	l = queryOf(t, "page=9").list("V1", 120)
	if l.Page != 3 || l.First != 101 || l.Last != 120 || l.Next != "" || l.Prev != "/licences/V1/keys?page=2#keys-heading" {
		t.Errorf("page past the end: %+v", l)
	}
	l = queryOf(t, "sort=usage").list("V1", 120)
	if !strings.Contains(l.Next, "sort=usage") || l.SortURL["type"] != "/licences/V1/keys?sort=type#keys-heading" {
		t.Errorf("by usage: %+v", l)
	}
	l = queryOf(t, "q=s0007&status=blocked").list("V1", 1)
	if !l.Filtered || l.ClearURL != "/licences/V1/keys#keys-heading" || l.First != 1 || l.Last != 1 || l.Next != "" ||
		l.SortURL["product"] != "/licences/V1/keys?q=s0007&status=blocked#keys-heading" {
		t.Errorf("filtered: %+v", l)
	}
	if l = queryOf(t, "q=nothing").list("V1", 0); l.Page != 1 || l.Total != 0 || l.Next != "" || l.Prev != "" {
		t.Errorf("nothing found: %+v", l)
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
