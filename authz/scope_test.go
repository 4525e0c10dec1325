package authz_test

import (
	"slices"
	"testing"

	"github.com/openlsc/openlsc/models"
)

// TestInheritedLicences: the licences a user reaches by inheriting under
// an MBSA, by MBSA, sorted; none once the user stops inheriting, and none
// for an MBSA they administer without inheriting.
func TestInheritedLicences(t *testing.T) {
	f := newFixture(t)
	f.grant("mbsa", "M1", models.PermAdministrator, models.SourceContact)
	f.grant("mbsa", "M2", models.PermAdministrator, models.SourceContact)
	f.grant("mbsa", "E1", models.PermKeyReader, models.SourceDirect)
	f.inherit("mbsa", "M1", true)
	want := []int64{f.lic["E1"], f.lic["S1"]}
	slices.Sort(want)
	got := f.a.InheritedLicences(f.users["mbsa"])
	if len(got) != 1 || got[0].MBSA != f.lic["M1"] || !slices.Equal(got[0].Licences, want) {
		t.Errorf("inheriting under M1: %+v, want M1 with %v", got, want)
	}
	f.inherit("mbsa", "M1", false)
	if got := f.a.InheritedLicences(f.users["mbsa"]); len(got) != 0 {
		t.Errorf("after inheritance is off: %+v", got)
	}
	if got := f.a.InheritedLicences(f.users["stranger"]); got != nil {
		t.Errorf("stranger: %+v", got)
	}
}
