package frontend

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// peoplePageSize is how many people the users page lists at once.
const peoplePageSize = 50

// peopleQuery is the filter, order and page of the users page's table of
// people, from the URL.
type peopleQuery struct {
	Q    string // part of a name or work email
	Sort string // "name" (the default) or "email"
	Page int    // from 1
}

// peopleList is one page of the people table, with links to the others.
type peopleList struct {
	peopleQuery
	Total          int // people matching the filter
	First, Last    int // their positions on this page, from 1
	Prev, Next     string
	SortByName     string
	SortByEmail    string
	Filtered       bool
	ClearFilterURL string
}

// parsePeopleQuery reads q, sort and page from the request.
func parsePeopleQuery(c *gin.Context) peopleQuery {
	q := peopleQuery{Q: cutString(strings.TrimSpace(c.Query("q")), 200), Sort: c.Query("sort"), Page: 1}
	if q.Sort != "email" {
		q.Sort = "name"
	}
	if n, err := strconv.Atoi(c.Query("page")); err == nil && n > 1 {
		q.Page = n
	}
	return q
}

// url is the users page with this query.
func (q peopleQuery) url(licence string) string {
	v := url.Values{"q": {q.Q}}
	if q.Sort != "name" {
		v.Set("sort", q.Sort)
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	return listURL("/licences/"+url.PathEscape(licence)+"/users", "people-heading", v)
}

// apply filters and sorts people and cuts out the query's page.
func (q peopleQuery) apply(licence string, people []personView) ([]personView, peopleList) {
	// Sort (position, key) pairs rather than the rows: the keys are
	// lower-cased once, not at every comparison.
	type sortKey struct {
		key string
		i   int
	}
	needle := strings.ToLower(q.Q)
	keys := make([]sortKey, 0, len(people))
	for i, p := range people {
		name, email := strings.ToLower(p.Name), strings.ToLower(p.Email)
		if needle != "" && !strings.Contains(name, needle) && !strings.Contains(email, needle) {
			continue
		}
		k := sortKey{key: cmp.Or(name, email), i: i}
		if q.Sort == "email" {
			k.key = email
		}
		keys = append(keys, k)
	}
	slices.SortStableFunc(keys, func(a, b sortKey) int { return cmp.Compare(a.key, b.key) })
	at := func(page int, sort string) string {
		return peopleQuery{Q: q.Q, Sort: sort, Page: page}.url(licence)
	}
	w := paginate(len(keys), q.Page, peoplePageSize, func(page int) string { return at(page, q.Sort) })
	l := peopleList{peopleQuery: q, Total: len(keys), Filtered: q.Q != "", First: w.From + 1, Last: w.To, Prev: w.Prev, Next: w.Next}
	l.Page = w.Page
	l.SortByName, l.SortByEmail = at(1, "name"), at(1, "email")
	l.ClearFilterURL = peopleQuery{Sort: q.Sort, Page: 1}.url(licence)
	page := make([]personView, 0, w.To-w.From)
	for _, k := range keys[w.From:w.To] {
		page = append(page, people[k.i])
	}
	return page, l
}
