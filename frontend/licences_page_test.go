package frontend

import (
	"fmt"
	"testing"

	"github.com/openlsc/openlsc/app"
)

// TestPageTree: the relationship summary page shows each MBSA collapsed
// with its first licences, and one MBSA's licences page by page.
func TestPageTree(t *testing.T) {
	var kids []app.TreeNode
	for i := range 450 {
		kids = append(kids, app.TreeNode{LicenceView: app.LicenceView{Number: fmt.Sprintf("E%04d", i)}})
	}
	tree := []app.TreeNode{
		{LicenceView: app.LicenceView{Number: "M1"}, Children: kids},
		{LicenceView: app.LicenceView{Number: "V1"}},
	}
	p := pageTree(tree, "", "")
	if len(p.Roots) != 2 || p.Roots[0].Total != 450 || len(p.Roots[0].Children) != treePreview || p.Under != nil {
		t.Fatalf("summary: %d roots, %d of %d shown", len(p.Roots), len(p.Roots[0].Children), p.Roots[0].Total)
	}
	var seen []string
	after := ""
	for range 5 {
		p = pageTree(tree, "M1", after)
		if p.Under == nil || p.Under.Number != "M1" || len(p.Children) > treePageSize {
			t.Fatalf("page after %q: %+v", after, p.Under)
		}
		for _, c := range p.Children {
			seen = append(seen, c.Number)
		}
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if len(seen) != 450 || seen[0] != "E0000" || seen[449] != "E0449" {
		t.Errorf("pages gave %d licences, %v … %v", len(seen), seen[:1], seen[len(seen)-1:])
	}
	if p := pageTree(tree, "M9", ""); p.Under != nil || len(p.Roots) != 2 {
		t.Errorf("unknown MBSA: %+v", p)
	}
}

// TestKeysPageAfter: the keys page shows keysPerPage keys after the
// cursor, in the list's order, and every key once over the pages.
func TestKeysPageAfter(t *testing.T) {
	var keys []app.KeyView
	for i := range 250 {
		keys = append(keys, app.KeyView{ID: int64(1000 - i)}) // not in id order
	}
	var seen []int64
	var after int64
	for range 5 {
		page, next := keysPageAfter(keys, after)
		if len(page) > keysPerPage {
			t.Fatalf("%d keys on a page", len(page))
		}
		for _, k := range page {
			seen = append(seen, k.ID)
		}
		if next == 0 {
			break
		}
		after = next
	}
	if len(seen) != 250 || seen[0] != 1000 || seen[249] != 751 {
		t.Errorf("pages gave %d keys", len(seen))
	}
	if page, next := keysPageAfter(keys, 1); len(page) != keysPerPage || page[0].ID != 1000 || next != 901 {
		t.Errorf("unknown cursor: %d keys from %d, next %d", len(page), page[0].ID, next)
	}
}
