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
	needle := strings.ToLower(q.Q)
	var kept []personView
	for _, p := range people {
		if needle == "" || strings.Contains(strings.ToLower(p.Name), needle) || strings.Contains(strings.ToLower(p.Email), needle) {
			kept = append(kept, p)
		}
	}
	key := func(p personView) string { return strings.ToLower(cmp.Or(p.Name, p.Email)) }
	if q.Sort == "email" {
		key = func(p personView) string { return strings.ToLower(p.Email) }
	}
	slices.SortStableFunc(kept, func(a, b personView) int { return cmp.Compare(key(a), key(b)) })
	at := func(page int, sort string) string {
		return peopleQuery{Q: q.Q, Sort: sort, Page: page}.url(licence)
	}
	w := paginate(len(kept), q.Page, peoplePageSize, func(page int) string { return at(page, q.Sort) })
	l := peopleList{peopleQuery: q, Total: len(kept), Filtered: q.Q != "", First: w.From + 1, Last: w.To, Prev: w.Prev, Next: w.Next}
	l.Page = w.Page
	l.SortByName, l.SortByEmail = at(1, "name"), at(1, "email")
	l.ClearFilterURL = peopleQuery{Sort: q.Sort, Page: 1}.url(licence)
	return kept[w.From:w.To], l
}
