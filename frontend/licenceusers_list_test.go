package frontend

import (
	"fmt"
	"testing"
)

// TestPeopleList checks the filter, order and pages of the users page's
// table of people.
func TestPeopleList(t *testing.T) {
	var people []personView
	for i := range 120 {
		people = append(people, personView{UserID: int64(i), Name: fmt.Sprintf("Person %03d", 119-i), Email: fmt.Sprintf("p%03d@contoso.example", i)})
	}
	people = append(people, personView{UserID: 500, Name: "Zoë Partner", Email: "a@northwind.example"})

	page, l := peopleQuery{Sort: "name", Page: 1}.apply("E1", people)
	if len(page) != peoplePageSize || page[0].Name != "Person 000" || l.Total != 121 || l.Prev != "" || l.Next != "/licences/E1/users?page=2#people-heading" {
		t.Errorf("first page: %d people from %q, total %d, prev %q next %q", len(page), page[0].Name, l.Total, l.Prev, l.Next)
	}
	page, l = peopleQuery{Sort: "name", Page: 9}.apply("E1", people)
	if len(page) != 21 || l.Page != 3 || l.First != 101 || l.Last != 121 || l.Next != "" || page[20].Name != "Zoë Partner" {
		t.Errorf("last page: %d people, page %d, %d–%d, next %q", len(page), l.Page, l.First, l.Last, l.Next)
	}
	page, l = peopleQuery{Q: "NORTHWIND", Sort: "email", Page: 1}.apply("E1", people)
	if len(page) != 1 || page[0].UserID != 500 || !l.Filtered || l.ClearFilterURL != "/licences/E1/users?sort=email#people-heading" {
		t.Errorf("filtered: %+v %+v", page, l)
	}
	page, _ = peopleQuery{Sort: "email", Page: 1}.apply("E1", people)
	if page[0].UserID != 500 {
		t.Errorf("by email, first is %q", page[0].Email)
	}
	if page, l := (peopleQuery{Sort: "name", Page: 1}).apply("E1", nil); len(page) != 0 || l.Total != 0 {
		t.Errorf("no people: %v %+v", page, l)
	}
}
