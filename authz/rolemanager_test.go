package authz

import (
	"fmt"
	"sort"
	"testing"
)

func TestGraphLinks(t *testing.T) {
	g := newGraph(2)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(g.AddLink("u:1", "inherit@a:7"))
	must(g.AddLink("u:1", "key_reader@a:9"))
	for i := 0; i < 40; i++ { // past setThreshold: the node keeps a set
		must(g.AddLink("inherit@a:7", fmt.Sprintf("administrator@a:%d", 100+i)))
	}
	must(g.AddLink("administrator@a:100", "deeper")) // three links from u:1

	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"u:1", "u:1", true},
		{"u:1", "key_reader@a:9", true},
		{"u:1", "administrator@a:100", true},
		{"u:1", "administrator@a:139", true},
		{"u:1", "administrator@a:140", false},
		{"u:1", "deeper", false}, // beyond maxDepth
		{"inherit@a:7", "deeper", true},
		{"u:2", "key_reader@a:9", false},
		{"key_reader@a:9", "u:1", false}, // links have a direction
	} {
		if got, _ := g.HasLink(tc.a, tc.b); got != tc.want {
			t.Errorf("HasLink(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}

	must(g.DeleteLink("inherit@a:7", "administrator@a:120"))
	if ok, _ := g.HasLink("u:1", "administrator@a:120"); ok {
		t.Error("deleted link still followed")
	}
	for i := 0; i < 40; i++ { // back below the threshold: the set is dropped
		must(g.DeleteLink("inherit@a:7", fmt.Sprintf("administrator@a:%d", 100+i)))
	}
	if ok, _ := g.HasLink("u:1", "administrator@a:101"); ok {
		t.Error("link followed after all were deleted")
	}
	must(g.AddLink("inherit@a:7", "administrator@a:5"))
	if ok, _ := g.HasLink("u:1", "administrator@a:5"); !ok {
		t.Error("link added after the set was dropped not followed")
	}

	roles, _ := g.GetRoles("u:1")
	sort.Strings(roles)
	if fmt.Sprint(roles) != "[inherit@a:7 key_reader@a:9]" {
		t.Errorf("GetRoles = %v", roles)
	}
	users, _ := g.GetUsers("administrator@a:5")
	if fmt.Sprint(users) != "[inherit@a:7]" {
		t.Errorf("GetUsers = %v", users)
	}
	implicit, _ := g.GetImplicitRoles("u:1")
	sort.Strings(implicit)
	if fmt.Sprint(implicit) != "[administrator@a:5 inherit@a:7 key_reader@a:9]" {
		t.Errorf("GetImplicitRoles = %v", implicit)
	}
	if _, err := g.HasLink("u:1", "x", "domain"); err == nil {
		t.Error("a domain was accepted")
	}
	must(g.Clear())
	if ok, _ := g.HasLink("u:1", "key_reader@a:9"); ok {
		t.Error("link survived Clear")
	}
}
