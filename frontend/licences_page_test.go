package frontend

import (
	"fmt"
	"testing"
	"time"

	"github.com/openlsc/openlsc/app"
)

// TestPageTree: the relationship summary page shows each MBSA with its
// first licences and a link to all of them, and one MBSA's licences page
// by page.
func TestPageTree(t *testing.T) {
	var kids []app.TreeNode
	for i := range 450 {
		kids = append(kids, app.TreeNode{LicenceView: app.LicenceView{Number: fmt.Sprintf("E%04d", i)}})
	}
	tree := []app.TreeNode{
		{LicenceView: app.LicenceView{Number: "M1"}, Children: kids},
		{LicenceView: app.LicenceView{Number: "V1"}},
	}
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	p := pageTree(tree, "", "", now)
	// M1, its first treePreview licences, the link to all 450, V1.
	if len(p.Rows) != treePreview+3 || p.Rows[treePreview+1].More != 450 || p.Rows[treePreview+1].Number != "M1" || p.Under != "" {
		t.Fatalf("summary: %d rows", len(p.Rows))
	}
	var seen []string
	after := ""
	for range 5 {
		p = pageTree(tree, "M1", after, now)
		if p.Under != "M1" || len(p.Rows) > treePageSize+1 || p.Rows[0].Number != "M1" {
			t.Fatalf("page after %q: under %q, %d rows", after, p.Under, len(p.Rows))
		}
		for _, r := range p.Rows[1:] {
			seen = append(seen, r.Number)
		}
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if len(seen) != 450 || seen[0] != "E0000" || seen[449] != "E0449" {
		t.Errorf("pages gave %d licences", len(seen))
	}
	if p := pageTree(tree, "M9", "", now); p.Under != "" || len(p.Rows) != treePreview+3 {
		t.Errorf("unknown MBSA: %+v", p.Under)
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
