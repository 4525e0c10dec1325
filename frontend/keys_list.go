package frontend

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/models"
)

// keysPageSize is how many keys the keys page lists at once.
const keysPageSize = 50

// keyQuery is the filter, order and page of the keys table, from the URL.
type keyQuery struct {
	Q      string // part of the product, its code, the key type or the last characters
	Status string // "" for every key, else active, blocked or retired
	Sort   string // "product" (the default), "type" or "usage" (most used first)
	Page   int    // from 1
}

// keyList is one page of the keys table, with links to the others.
type keyList struct {
	keyQuery
	Total       int // keys matching the filter
	First, Last int // their positions on this page, from 1
	Prev, Next  string
	SortURL     map[string]string // the first page in each order
	Filtered    bool
	ClearURL    string
}

// parseKeyQuery reads q, status, sort and page from the request.
func parseKeyQuery(c *gin.Context) keyQuery {
	q := keyQuery{Q: cutString(strings.TrimSpace(c.Query("q")), 100), Status: c.Query("status"), Sort: c.Query("sort"), Page: 1}
	switch models.KeyStatus(q.Status) {
	case models.KeyActive, models.KeyBlocked, models.KeyRetired:
	default:
		q.Status = ""
	}
	if q.Sort != "type" && q.Sort != "usage" {
		q.Sort = "product"
	}
	if n, err := strconv.Atoi(c.Query("page")); err == nil && n > 1 {
		q.Page = n
	}
	return q
}

// url is the keys page with this query.
func (q keyQuery) url(licence string) string {
	v := url.Values{"q": {q.Q}, "status": {q.Status}}
	if q.Sort != "product" {
		v.Set("sort", q.Sort)
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	return listURL("/licences/"+url.PathEscape(licence)+"/keys", "keys-heading", v)
}

// list is the links and counts of the query's page of total keys (those
// passing its filter; the application filters, sorts and pages them).
func (q keyQuery) list(licence string, total int) keyList {
	at := func(page int, sort string) string {
		return keyQuery{Q: q.Q, Status: q.Status, Sort: sort, Page: page}.url(licence)
	}
	w := paginate(total, q.Page, keysPageSize, func(page int) string { return at(page, q.Sort) })
	l := keyList{keyQuery: q, Total: total, Filtered: q.Q != "" || q.Status != "", First: w.From + 1, Last: w.To, Prev: w.Prev, Next: w.Next}
	l.Page = w.Page
	l.SortURL = map[string]string{"product": at(1, "product"), "type": at(1, "type"), "usage": at(1, "usage")}
	l.ClearURL = keyQuery{Sort: q.Sort, Page: 1}.url(licence)
	return l
}
