package authz

import (
	"cmp"
	"slices"
)

// Inherited is what a user administers by inheriting under one MBSA: the
// licences hanging under it, as this instance knows them.
type Inherited struct {
	MBSA     int64
	Licences []int64 // sorted
}

// InheritedLicences returns, by MBSA (in id order), the licences user
// reaches by inheriting under an MBSA. Each is also in Licences(user),
// which may hold more (grants held directly). A listing can read the
// licences under such an MBSA a page at a time by their parent, and keep
// those this says user reaches, rather than read every one of them.
func (a *Authorizer) InheritedLicences(user int64) []Inherited {
	g := a.state.Load().rm
	g.mu.RLock()
	defer g.mu.RUnlock()
	u, ok := g.id(userNode(user), false)
	if !ok {
		return nil
	}
	var out []Inherited
	for _, n := range g.inner[u] {
		mbsa, ok := inheritedMBSA(g.names[n])
		if !ok {
			continue
		}
		in := Inherited{MBSA: mbsa, Licences: make([]int64, 0, len(g.out[n]))}
		for _, m := range g.out[n] {
			if r := g.roles[m]; r.perm != "" {
				in.Licences = append(in.Licences, r.licence)
			}
		}
		slices.Sort(in.Licences)
		out = append(out, in)
	}
	slices.SortFunc(out, func(x, y Inherited) int { return cmp.Compare(x.MBSA, y.MBSA) })
	return out
}
