package authz

import "testing"

// TestDecisionsAreForgotten checks that remembered answers never outlive a
// link change, and that a full store starts afresh.
func TestDecisionsAreForgotten(t *testing.T) {
	st, err := newState([][]string{{"u:1", "administrator@a:5"}}, newGraph(maxDepth))
	if err != nil {
		t.Fatal(err)
	}
	st.decisions.limit = 3
	a := &Authorizer{}
	a.state.Store(st)
	for _, when := range []string{"evaluated", "remembered"} {
		if !a.Can(1, 5, ActManage) {
			t.Fatalf("granted administrator cannot manage (%s)", when)
		}
	}
	if err := st.changeLinks(nil, [][]string{{"u:1", "administrator@a:5"}}); err != nil {
		t.Fatal(err)
	}
	if a.Can(1, 5, ActManage) {
		t.Error("a revoked link is still allowed after being remembered")
	}
	// Fill the store past its limit: it empties and the answers stay right.
	for lic := int64(10); lic < 20; lic++ {
		if a.Can(1, lic, ActView) {
			t.Errorf("Can(1, %d) allowed", lic)
		}
	}
	if n := len(st.decisions.m); n >= 3 {
		t.Errorf("%d decisions remembered, limit 3", n)
	}
	// An answer computed before a change is not stored after it.
	gen := st.decisions.generation()
	st.decisions.forget()
	st.decisions.put(decisionKey{user: 1, licence: 5, action: ActView}, true, gen)
	if _, found := st.decisions.get(decisionKey{user: 1, licence: 5, action: ActView}); found {
		t.Error("a stale answer was stored")
	}
}
