package authz

import (
	"errors"
	"sync"

	"github.com/casbin/casbin/v2/log"
	"github.com/casbin/casbin/v2/rbac"
	"github.com/openlsc/openlsc/models"
)

// graph is a casbin rbac.RoleManager for millions of links. Names are
// interned to int32 ids and links kept in slices, so a link costs a few
// bytes instead of the default role manager's ~500 and the heap holds few
// pointers for the collector to chase. Nodes with many links (an MBSA's
// inherit node has one per enrollment) also keep a set, so that HasLink
// answers in time independent of their degree.
//
// HasLink follows links up to maxDepth hops, like casbin's
// maxHierarchyLevel. Domains are not used by the OpenLSC model.
type graph struct {
	mu       sync.RWMutex
	maxDepth int
	ids      map[string]int32
	names    []string
	roles    []roleInfo // what each node is, when it is a licence role
	out      [][]int32  // out[a]: the roles a inherits
	in       [][]int32  // in[b]: who inherits b
	// inner[a] holds the nodes of out[a] that have links of their own: the
	// only ones worth expanding (a user with thousands of grants has one or
	// two inherit nodes among them).
	inner  [][]int32
	outSet map[int32]map[int32]struct{}
}

// roleInfo is a licence role node parsed once, when it is interned.
type roleInfo struct {
	licence int64
	perm    models.Permission // "" for nodes that are not licence roles
}

// setThreshold is the out-degree from which a node keeps a set of its links.
const setThreshold = 16

var _ rbac.RoleManager = (*graph)(nil)

var errDomains = errors.New("authz: role domains are not supported")

func newGraph(maxDepth int) *graph {
	g := &graph{maxDepth: maxDepth}
	g.reset(0)
	return g
}

func (g *graph) reset(sizeHint int) {
	g.ids = make(map[string]int32, sizeHint)
	g.names = make([]string, 0, sizeHint)
	g.roles = make([]roleInfo, 0, sizeHint)
	g.out = make([][]int32, 0, sizeHint)
	g.in = make([][]int32, 0, sizeHint)
	g.inner = make([][]int32, 0, sizeHint)
	g.outSet = make(map[int32]map[int32]struct{})
}

// id returns the id of name, interning it when add is true.
func (g *graph) id(name string, add bool) (int32, bool) {
	if id, ok := g.ids[name]; ok {
		return id, true
	}
	if !add {
		return 0, false
	}
	id := int32(len(g.names))
	g.ids[name] = id
	g.names = append(g.names, name)
	var ri roleInfo
	if perm, lic, ok := parseRole(name); ok {
		ri = roleInfo{licence: lic, perm: perm}
	}
	g.roles = append(g.roles, ri)
	g.out = append(g.out, nil)
	g.in = append(g.in, nil)
	g.inner = append(g.inner, nil)
	return id, true
}

func (g *graph) hasEdge(a, b int32) bool {
	if set, ok := g.outSet[a]; ok {
		_, has := set[b]
		return has
	}
	for _, x := range g.out[a] {
		if x == b {
			return true
		}
	}
	return false
}

// Clear removes every link.
func (g *graph) Clear() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reset(0)
	return nil
}

// AddLink records that name1 inherits name2.
func (g *graph) AddLink(name1, name2 string, domain ...string) error {
	if len(domain) > 0 {
		return errDomains
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.addLink(name1, name2)
	return nil
}

// load adds many links under one lock: fill calls add for each.
func (g *graph) load(sizeHint int, fill func(add func(name1, name2 string)) error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reset(sizeHint)
	return fill(g.addLink)
}

// addLink adds a link; the caller holds the write lock.
func (g *graph) addLink(name1, name2 string) {
	a, _ := g.id(name1, true)
	b, _ := g.id(name2, true)
	if g.hasEdge(a, b) {
		return
	}
	g.out[a] = append(g.out[a], b)
	g.in[b] = append(g.in[b], a)
	if len(g.out[b]) > 0 {
		g.inner[a] = append(g.inner[a], b)
	}
	if len(g.out[a]) == 1 { // a has links of its own now: expand it from its users
		for _, p := range g.in[a] {
			g.inner[p] = append(g.inner[p], a)
		}
	}
	if set, ok := g.outSet[a]; ok {
		set[b] = struct{}{}
	} else if len(g.out[a]) >= setThreshold {
		set := make(map[int32]struct{}, len(g.out[a]))
		for _, x := range g.out[a] {
			set[x] = struct{}{}
		}
		g.outSet[a] = set
	}
}

// BuildRelationship is deprecated in casbin and does nothing.
func (g *graph) BuildRelationship(string, string, ...string) error { return nil }

// DeleteLink removes the link from name1 to name2.
func (g *graph) DeleteLink(name1, name2 string, domain ...string) error {
	if len(domain) > 0 {
		return errDomains
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	a, ok1 := g.id(name1, false)
	b, ok2 := g.id(name2, false)
	if !ok1 || !ok2 {
		return nil
	}
	if !g.hasEdge(a, b) {
		return nil
	}
	g.out[a] = without(g.out[a], b)
	g.in[b] = without(g.in[b], a)
	g.inner[a] = without(g.inner[a], b)
	if len(g.out[a]) == 0 { // a is a leaf now: nobody expands it any more
		for _, p := range g.in[a] {
			g.inner[p] = without(g.inner[p], a)
		}
	}
	if set, ok := g.outSet[a]; ok {
		delete(set, b)
		if len(g.out[a]) < setThreshold/2 {
			delete(g.outSet, a)
		}
	}
	return nil
}

func without(s []int32, x int32) []int32 {
	for i, y := range s {
		if y == x {
			s[i] = s[len(s)-1]
			return s[:len(s)-1]
		}
	}
	return s
}

// HasLink reports whether name1 reaches name2 in at most maxDepth links.
func (g *graph) HasLink(name1, name2 string, domain ...string) (bool, error) {
	if len(domain) > 0 {
		return false, errDomains
	}
	if name1 == name2 {
		return true, nil
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	a, ok1 := g.id(name1, false)
	b, ok2 := g.id(name2, false)
	if !ok1 || !ok2 {
		return false, nil
	}
	return g.reaches(a, b), nil
}

// reaches searches breadth-first from a for b. Every frontier node is
// tested with hasEdge; only its inner nodes (those with links of their own)
// are expanded, so leaves (licence roles) are never walked.
func (g *graph) reaches(a, b int32) bool {
	var buf [16]int32
	frontier := append(buf[:0], a)
	var next []int32
	for depth := 0; depth < g.maxDepth && len(frontier) > 0; depth++ {
		next = next[:0]
		for _, n := range frontier {
			if g.hasEdge(n, b) {
				return true
			}
			if depth+1 == g.maxDepth {
				continue
			}
			next = append(next, g.inner[n]...)
		}
		frontier, next = next, frontier
	}
	return false
}

// GetRoles returns the roles name inherits directly.
func (g *graph) GetRoles(name string, domain ...string) ([]string, error) {
	return g.neighbours(name, domain, false, func() [][]int32 { return g.out })
}

// GetUsers returns who inherits name directly.
func (g *graph) GetUsers(name string, domain ...string) ([]string, error) {
	return g.neighbours(name, domain, false, func() [][]int32 { return g.in })
}

// GetImplicitRoles returns every role name reaches within maxDepth links.
func (g *graph) GetImplicitRoles(name string, domain ...string) ([]string, error) {
	return g.neighbours(name, domain, true, func() [][]int32 { return g.out })
}

// GetImplicitUsers returns everyone who reaches name within maxDepth links.
func (g *graph) GetImplicitUsers(name string, domain ...string) ([]string, error) {
	return g.neighbours(name, domain, true, func() [][]int32 { return g.in })
}

// neighbours returns the names linked to name over the edges that edges
// returns (read under the lock): direct ones, or all within maxDepth when
// implicit.
func (g *graph) neighbours(name string, domain []string, implicit bool, edges func() [][]int32) ([]string, error) {
	if len(domain) > 0 {
		return nil, errDomains
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	a, ok := g.id(name, false)
	if !ok {
		return []string{}, nil
	}
	if implicit {
		return g.namesOf(g.walk(a, edges())), nil
	}
	return g.namesOf(edges()[a]), nil
}

// walk returns the nodes reachable from a over edges within maxDepth.
func (g *graph) walk(a int32, edges [][]int32) []int32 {
	seen := map[int32]bool{a: true}
	var out []int32
	frontier := []int32{a}
	for depth := 0; depth < g.maxDepth && len(frontier) > 0; depth++ {
		var next []int32
		for _, n := range frontier {
			for _, m := range edges[n] {
				if !seen[m] {
					seen[m] = true
					out = append(out, m)
					next = append(next, m)
				}
			}
		}
		frontier = next
	}
	return out
}

// visitRoles calls fn for every licence role name holds: its own (direct
// is true) and those reached through an inner node such as an MBSA's
// inherit node. A role held both ways is reported both times. size is
// first told at most how many calls of fn follow.
func (g *graph) visitRoles(name string, size func(n int), fn func(perm models.Permission, licence int64, direct bool)) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	a, ok := g.id(name, false)
	if !ok {
		return
	}
	n := len(g.out[a])
	for _, m := range g.inner[a] {
		n += len(g.out[m])
	}
	size(n)
	for _, n := range g.out[a] {
		if r := g.roles[n]; r.perm != "" {
			fn(r.perm, r.licence, true)
		}
	}
	for _, n := range g.inner[a] {
		for _, m := range g.out[n] {
			if r := g.roles[m]; r.perm != "" {
				fn(r.perm, r.licence, false)
			}
		}
	}
}

func (g *graph) namesOf(ids []int32) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = g.names[id]
	}
	return out
}

// GetDomains is not supported: the model has no domains.
func (g *graph) GetDomains(string) ([]string, error) { return nil, errDomains }

// GetAllDomains is not supported: the model has no domains.
func (g *graph) GetAllDomains() ([]string, error) { return nil, errDomains }

// PrintRoles does nothing; links are not logged.
func (g *graph) PrintRoles() error { return nil }

// SetLogger ignores the logger.
func (g *graph) SetLogger(log.Logger) {}

// Match compares names exactly; the model uses no pattern matching.
func (g *graph) Match(str, pattern string) bool { return str == pattern }

// AddMatchingFunc is not supported: the model uses no pattern matching.
func (g *graph) AddMatchingFunc(string, rbac.MatchingFunc) {}

// AddDomainMatchingFunc is not supported: the model has no domains.
func (g *graph) AddDomainMatchingFunc(string, rbac.MatchingFunc) {}

// DeleteDomain is not supported: the model has no domains.
func (g *graph) DeleteDomain(string) error { return errDomains }
