package frontend

import (
	"fmt"
	"testing"
	"time"

	"github.com/openlsc/openlsc/app"
)

// TestPageTree: the relationship summary page shows each MBSA with the
// licences the application's page gives and a link to all of them; one
// MBSA's page starts with the MBSA and carries the cursor on.
func TestPageTree(t *testing.T) {
	var kids []app.TreeNode
	for i := range treePreview {
		kids = append(kids, app.TreeNode{LicenceView: app.LicenceView{Number: fmt.Sprintf("E%04d", i)}})
	}
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	p := pageTree(app.TreePage{Licences: []app.TreeNode{
		{LicenceView: app.LicenceView{Number: "M1"}, Children: kids, ChildCount: 450},
		{LicenceView: app.LicenceView{Number: "V1"}},
	}}, now)
	// M1, its first treePreview licences, the link to all 450, V1.
	if len(p.Rows) != treePreview+3 || p.Rows[treePreview+1].More != 450 || p.Rows[treePreview+1].Number != "M1" || p.Under != "" {
		t.Fatalf("summary: %d rows", len(p.Rows))
	}
	p = pageTree(app.TreePage{Licences: []app.TreeNode{{LicenceView: app.LicenceView{Number: "M2"}}}}, now)
	if len(p.Rows) != 1 || p.Rows[0].More != 0 {
		t.Errorf("an MBSA without licences under it: %+v", p.Rows)
	}
	p = pageTree(app.TreePage{Under: "M1", UnderNode: app.TreeNode{LicenceView: app.LicenceView{Number: "M1"}}, Licences: kids, Next: "E0019"}, now)
	if p.Under != "M1" || p.Next != "E0019" || len(p.Rows) != treePreview+1 || p.Rows[0].Number != "M1" || !p.Rows[1].Child {
		t.Errorf("page of M1: under %q, next %q, %d rows", p.Under, p.Next, len(p.Rows))
	}
}

// TestKeysPageAfter: the keys page shows at most keysPageSize keys a page,
// and every key once over the pages; a page past the end shows the last.
// (The keys page had a cursor, ?after=, first; it now has numbered pages
// with a filter and an order, see keys_list.go, and this test walks them.)
func TestKeysPageAfter(t *testing.T) {
	var keys []app.KeyView
	for i := range 250 {
		keys = append(keys, app.KeyView{ID: int64(1000 - i)}) // not in id order
	}
	var seen []int64
	for n := 1; n <= 10; n++ {
		page, l := keyQuery{Sort: "product", Page: n}.apply("V1", keys)
		if len(page) > keysPageSize {
			t.Fatalf("%d keys on a page", len(page))
		}
		for _, k := range page {
			seen = append(seen, k.ID)
		}
		if l.Next == "" {
			break
		}
	}
	if len(seen) != 250 || seen[0] != 751 || seen[249] != 1000 {
		t.Errorf("pages gave %d keys", len(seen))
	}
	if page, l := (keyQuery{Sort: "product", Page: 99}).apply("V1", keys); len(page) != 250-4*keysPageSize || l.Page != 5 || l.Next != "" {
		t.Errorf("page past the end: %d keys, page %d", len(page), l.Page)
	}
}
